using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Sfu.Server.Admin;
using Sfu.Signaling.Rooms;
using Sfu.Signaling.Sessions;
using StackExchange.Redis;
using IServer = Microsoft.AspNetCore.Hosting.Server.IServer;

namespace Sfu.Server.Cluster;

/// <summary>
/// This server as a member of a cluster: connects to Redis at start-up (and refuses to start without it), learns its
/// id and URL once Kestrel listens, then heartbeats: its record and load, its rooms' leases (renewed while a room is
/// open, released once it closed), and the forgetting of its ended sessions. On graceful shutdown it leaves the
/// cluster and releases its leases, so that the clients it then sends away re-create their rooms on other nodes.
/// Redis lost at run time is logged and counted; the node keeps serving its rooms and places new ones on itself.
/// </summary>
internal sealed partial class ClusterNode : IHostedService, IAsyncDisposable
{
    private readonly ClusterOptions _options;
    private readonly RoomRegistry _rooms;
    private readonly SessionRegistry _sessions;
    private readonly IServer _server;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _logger;
    private readonly HashSet<string> _leasedRooms = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _recordedSessions = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private ConnectionMultiplexer? _connection;
    private Task _heartbeat = Task.CompletedTask;
    private volatile NodeIdentity? _identity;
    private volatile bool _redisDown;
    private int _disposed;

    public ClusterNode(
        IOptions<ClusterOptions> options,
        RoomRegistry rooms,
        SessionRegistry sessions,
        IServer server,
        IHostApplicationLifetime lifetime,
        ClusterMetrics metrics,
        ILogger<ClusterNode> logger)
    {
        _options = options.Value;
        _rooms = rooms;
        _sessions = sessions;
        _server = server;
        _lifetime = lifetime;
        Metrics = metrics;
        _logger = logger;
        Credentials = new RelayCredentials(_options.Secret!, TimeProvider.System);
    }

    public ClusterMetrics Metrics { get; }

    public RelayCredentials Credentials { get; }

    public ClusterOptions Options => _options;

    public ClusterDirectory Directory { get; private set; } = null!;

    /// <summary>This node's id and URL, once Kestrel listens; until then the node places everything on itself.</summary>
    public NodeIdentity? Identity => _identity;

    public static bool IsRedisFailure(Exception ex) => ex is RedisException or TimeoutException or ObjectDisposedException;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ConfigurationOptions configuration;
        try
        {
            configuration = ConfigurationOptions.Parse(_options.Redis!);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"Sfu:Cluster:Redis is not a valid Redis configuration string: {ex.Message}", ex);
        }
        configuration.AbortOnConnectFail = true;
        configuration.ConnectTimeout = _options.ConnectTimeoutMs;
        // A join waits for placement: a Redis that stopped answering must fail it over to this node quickly.
        configuration.AsyncTimeout = Math.Min(configuration.AsyncTimeout, 2000);
        configuration.SyncTimeout = Math.Min(configuration.SyncTimeout, 2000);
        configuration.ClientName = "sfu";
        try
        {
            _connection = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        }
        catch (RedisConnectionException ex)
        {
            throw new InvalidOperationException(
                $"Sfu:Cluster:Redis: cannot reach Redis at {string.Join(", ", configuration.EndPoints)} within {_options.ConnectTimeoutMs} ms; " +
                $"start Redis or clear Sfu:Cluster:Redis to run a single node ({ex.Message})", ex);
        }
        _connection.ConnectionFailed += (_, e) => Log.RedisConnectionLost(_logger, e.EndPoint?.ToString(), e.FailureType.ToString());
        _connection.ConnectionRestored += (_, e) => Log.RedisConnectionRestored(_logger, e.EndPoint?.ToString());
        Directory = new ClusterDirectory(_connection.GetDatabase(), _options.LeaseMs);
        _lifetime.ApplicationStarted.Register(() =>
        {
            _identity = NodeIdentity.Resolve(_options, _server);
            Metrics.Identified(_identity.Id);
            Log.Joined(_logger, _identity.Id, _identity.Url);
            _heartbeat = RunHeartbeatAsync(_stopping.Token);
        });
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await StopHeartbeatAsync().ConfigureAwait(false);

    /// <summary>Graceful shutdown: no more heartbeats, out of the candidates for new rooms, every lease released.</summary>
    public async Task LeaveAsync()
    {
        await StopHeartbeatAsync().ConfigureAwait(false);
        if (_identity is not { } self) return;
        try
        {
            await Directory.RemoveNodeAsync(self.Id).ConfigureAwait(false);
            string[] leased;
            lock (_leasedRooms) leased = [.. _leasedRooms];
            foreach (var room in _rooms.Rooms.Select(r => r.Id).Union(leased)) await Directory.ReleaseRoomAsync(room, self.Id).ConfigureAwait(false);
            Log.Left(_logger, self.Id);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            // The leases expire by themselves within LeaseMs: the rooms move then.
            Metrics.RedisFailed("drain");
            Log.RedisFailed(_logger, "drain", ex.Message);
        }
    }

    /// <summary>
    /// A session is served here (joined or resumed): records where it lives, so that its <c>resume</c> on another node
    /// is relayed here, and holds its room's lease now rather than at the next heartbeat (a lease claimed at placement
    /// may have lapsed while a slow join ran).
    /// </summary>
    public async Task SessionServedAsync(Session session)
    {
        if (_identity is not { } self) return;
        var roomId = session.Peer.Room.Id;
        try
        {
            var lease = Directory.RenewRoomAsync(roomId, self.Id);
            await Directory.RecordSessionAsync(session.Id, roomId).ConfigureAwait(false);
            Metrics.LeaseRenewed(await lease.ConfigureAwait(false));
            _recordedSessions.TryAdd(session.Id, 0);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            Metrics.RedisFailed("session");
            // During an outage the heartbeat has said so already; one line per join would drown it.
            if (!_redisDown) Log.RedisFailed(_logger, "session", ex.Message);
        }
    }

    private async Task StopHeartbeatAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _heartbeat.ConfigureAwait(false);
    }

    private async Task RunHeartbeatAsync(CancellationToken stopping)
    {
        var interval = TimeSpan.FromMilliseconds(_options.HeartbeatMs);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await BeatAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (!IsRedisFailure(ex))
            {
                // A bug, not an outage: logged, and the next heartbeat tries again (a dead loop would lose every lease).
                Log.HeartbeatFailed(_logger, ex);
            }
            try
            {
                await Task.Delay(interval, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task BeatAsync()
    {
        var self = _identity!;
        var rooms = _rooms.Rooms;
        try
        {
            var summaries = rooms.Select(r => RoomSummary.Of(r)).ToArray();
            var record = new NodeRecord(self.Id, self.Url, rooms.Count, summaries.Sum(r => r.Peers.Count));
            await Directory.PublishNodeAsync(record, JsonSerializer.Serialize(summaries, JsonSerializerOptions.Web)).ConfigureAwait(false);
            await RenewLeasesAsync(self.Id, rooms).ConfigureAwait(false);
            foreach (var id in _recordedSessions.Keys)
            {
                if (_sessions.Find(id) is not null) continue;
                await Directory.ForgetSessionAsync(id).ConfigureAwait(false);
                _recordedSessions.TryRemove(id, out _);
            }
            Metrics.NodesSeen((await Directory.LiveNodesAsync().ConfigureAwait(false)).Count);
            Metrics.RedisSucceeded();
            if (_redisDown) Log.RedisBack(_logger);
            _redisDown = false;
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            Metrics.RedisFailed("heartbeat");
            // Once per outage: a heartbeat a second would otherwise log the same failure every second.
            if (!_redisDown) Log.RedisFailed(_logger, "heartbeat", ex.Message);
            _redisDown = true;
        }
    }

    private async Task RenewLeasesAsync(string self, IReadOnlyList<Room> open)
    {
        var openIds = open.Select(r => r.Id).Distinct(StringComparer.Ordinal).ToArray();
        // All at once: the client pipelines them, so a node with thousands of rooms renews in a round trip or two.
        LeaseRenewal[] results;
        try
        {
            results = await Task.WhenAll(openIds.Select(id => Directory.RenewRoomAsync(id, self))).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            Metrics.LeaseRenewalFailed();
            throw;
        }
        for (var i = 0; i < openIds.Length; i++)
        {
            Metrics.LeaseRenewed(results[i]);
            // Another node holds it (a split while Redis was away): this node's peers keep their room; joins go there.
            if (results[i] == LeaseRenewal.HeldByAnother) Log.LeaseHeldElsewhere(_logger, openIds[i]);
        }
        string[] closed;
        lock (_leasedRooms)
        {
            _leasedRooms.UnionWith(openIds);
            closed = [.. _leasedRooms.Except(openIds, StringComparer.Ordinal)];
        }
        await Task.WhenAll(closed.Select(id => Directory.ReleaseRoomAsync(id, self))).ConfigureAwait(false);
        lock (_leasedRooms) _leasedRooms.ExceptWith(closed);
    }

    public async ValueTask DisposeAsync()
    {
        // Registered both as itself and as a hosted service: the container disposes it twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await StopHeartbeatAsync().ConfigureAwait(false);
        if (_connection is not null) await _connection.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 800, Level = LogLevel.Information, Message = "Joined the cluster as node {NodeId} at {Url}")]
        public static partial void Joined(ILogger logger, string nodeId, string url);

        [LoggerMessage(EventId = 801, Level = LogLevel.Information, Message = "Node {NodeId} left the cluster and released its rooms")]
        public static partial void Left(ILogger logger, string nodeId);

        [LoggerMessage(EventId = 802, Level = LogLevel.Warning, Message = "Redis failed during {Operation}: {Reason}; rooms on this node keep working, new rooms open here")]
        public static partial void RedisFailed(ILogger logger, string operation, string reason);

        [LoggerMessage(EventId = 803, Level = LogLevel.Information, Message = "Redis answers heartbeats again")]
        public static partial void RedisBack(ILogger logger);

        [LoggerMessage(EventId = 804, Level = LogLevel.Warning, Message = "Lost the connection to Redis at {EndPoint} ({Failure})")]
        public static partial void RedisConnectionLost(ILogger logger, string? endPoint, string failure);

        [LoggerMessage(EventId = 805, Level = LogLevel.Information, Message = "Connection to Redis at {EndPoint} restored")]
        public static partial void RedisConnectionRestored(ILogger logger, string? endPoint);

        [LoggerMessage(EventId = 807, Level = LogLevel.Error, Message = "Cluster heartbeat failed")]
        public static partial void HeartbeatFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 806, Level = LogLevel.Warning, Message = "Room {RoomId} is open here but its lease is held by another node")]
        public static partial void LeaseHeldElsewhere(ILogger logger, string roomId);
    }
}

/// <summary>How the cluster names and reaches this node.</summary>
internal sealed record NodeIdentity(string Id, string Url)
{
    /// <summary>The configured id and URL, or ones derived from the address Kestrel listens on (http preferred: nodes talk inside the cluster).</summary>
    public static NodeIdentity Resolve(ClusterOptions options, IServer server)
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var listen = addresses.Select(a => new Uri(a)).OrderBy(u => u.Scheme == "http" ? 0 : 1).FirstOrDefault()
            ?? throw new InvalidOperationException("Sfu:Cluster: Kestrel reports no address; set Sfu:Cluster:PublicUrl");
        var host = listen.Host is "0.0.0.0" or "[::]" or "::" or "+" or "*" ? System.Net.Dns.GetHostName() : listen.Host;
        var id = string.IsNullOrWhiteSpace(options.NodeId) ? $"{System.Net.Dns.GetHostName()}:{listen.Port}" : options.NodeId;
        var url = string.IsNullOrWhiteSpace(options.PublicUrl)
            ? $"{(listen.Scheme == "https" ? "wss" : "ws")}://{(host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host)}:{listen.Port}/ws"
            : options.PublicUrl;
        return new NodeIdentity(id, url);
    }
}
