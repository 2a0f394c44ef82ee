using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using Sfu.Server.Cluster;
using Sfu.Signaling;
using Sfu.Signaling.Connections;
using Sfu.Signaling.Diagnostics;
using Sfu.Signaling.Protocol;

namespace Sfu.Server.WebSockets;

/// <summary>
/// The <c>/ws</c> endpoint: accepts WebSockets (subprotocol <c>sfu.v1</c>), reads whole text messages up to the
/// size limit, and hands them to the signaling core. Owns the set of open sockets, for graceful shutdown and for one
/// heartbeat that enforces the per-socket deadlines (the first message, and every send). In a cluster, it places each
/// socket by its first message and relays it when the room (or the session) lives on another node.
/// </summary>
internal sealed partial class WebSocketGateway : IDisposable
{
    public const string SubProtocol = "sfu.v1";

    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

    private readonly SignalingService _signaling;
    private readonly SignalingMetrics _metrics;
    private readonly SignalingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<WebSocketConnection, SignalingConnection> _open = new();
    private readonly SocketsPerAddress _perAddress;
    private readonly ITimer _heartbeat;
    private readonly ClusterNode? _cluster;
    private readonly RoomPlacement? _placement;
    private readonly SignalingRelay? _relay;
    private long _nextId;
    private readonly TaskCompletionSource _allClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _closingAll;

    public WebSocketGateway(
        SignalingService signaling,
        SignalingMetrics metrics,
        IOptions<SignalingOptions> options,
        [FromKeyedServices(SignalingServiceCollectionExtensions.ClockKey)] TimeProvider time,
        ILogger<WebSocketGateway> logger,
        ClusterNode? cluster = null,
        RoomPlacement? placement = null,
        SignalingRelay? relay = null)
    {
        _cluster = cluster;
        _placement = placement;
        _relay = relay;
        _signaling = signaling;
        _metrics = metrics;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _perAddress = new SocketsPerAddress(_options.MaxSocketsPerIp);
        _heartbeat = time.CreateTimer(_ => EnforceDeadlines(), null, HeartbeatInterval, HeartbeatInterval);
    }

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("this endpoint speaks WebSocket (subprotocol sfu.v1)");
            return;
        }

        var remoteAddress = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        // A socket another node relays: the address that counts (limits, logs) is its client's, vouched for by the
        // cluster secret. Outside a cluster nothing trusts these headers.
        var relayedIn = _cluster is not null && RelayCredentials.IsClaimed(context.Request.Headers);
        if (relayedIn)
        {
            var client = _cluster!.Credentials.Verify(context.Request.Headers);
            _cluster.Metrics.InboundRelay(accepted: client is not null);
            if (client is null)
            {
                Log.ForgedRelay(_logger, remoteAddress);
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsync("relay headers not signed with this cluster's secret");
                return;
            }
            remoteAddress = client;
        }
        if (!_perAddress.TryAdd(remoteAddress))
        {
            _metrics.LimitHit("sockets");
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            await context.Response.WriteAsync($"too many signaling sockets from {remoteAddress} (at most {_options.MaxSocketsPerIp})");
            return;
        }
        try
        {
            await ServeAsync(context, remoteAddress, relayedIn);
        }
        finally
        {
            _perAddress.Remove(remoteAddress);
        }
    }

    private async Task ServeAsync(HttpContext context, string remoteAddress, bool relayedIn)
    {
        var offersProtocol = context.WebSockets.WebSocketRequestedProtocols.Contains(SubProtocol);
        using var socket = await context.WebSockets.AcceptWebSocketAsync(offersProtocol ? SubProtocol : null);
        var connection = new WebSocketConnection(
            socket,
            $"ws-{Interlocked.Increment(ref _nextId)}",
            $"{remoteAddress}:{context.Connection.RemotePort}",
            _options.SendQueueCapacity,
            _options.SendQueueMaxBytes,
            _time);
        var writer = connection.RunWriterAsync();

        if (!_signaling.IsAccepting)
        {
            connection.Close(CloseCodes.ShuttingDown, "server shutting down");
            await WebSocketMessageReader.DiscardUntilCloseAsync(socket);
            connection.OnReaderFinished();
            await writer;
            return;
        }

        var protocol = _signaling.Accept(connection, remoteAddress);
        _open.TryAdd(connection, protocol);
        _metrics.SocketOpened();
        int? clientCloseCode = null;
        try
        {
            using var reader = new WebSocketMessageReader(socket, _options.MaxMessageBytes);
            clientCloseCode = _cluster is null
                ? await ReadMessagesAsync(reader, protocol)
                : await ServeInClusterAsync(socket, reader, connection, protocol, remoteAddress, relayedIn);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            Log.SocketBroke(_logger, connection.RemoteEndpoint, ex.Message);
        }
        finally
        {
            // Answer a client's close frame (if we have not closed first); nothing else is sent after it. Before the
            // reader is marked finished: that ends the writer, which must already know it owes the client its close.
            if (clientCloseCode is { } code) connection.Close(code, "");
            connection.OnReaderFinished();
            protocol.OnClosed(clientCloseCode);
            await writer;
            _open.TryRemove(connection, out _);
            _metrics.SocketClosed();
            if (_closingAll && _open.IsEmpty) _allClosed.TrySetResult();
        }
    }

    /// <summary>
    /// The heartbeat: a socket that has not joined or resumed in time is closed with 4000, and one whose current send
    /// has not finished in time (the client stopped reading; the kernel's buffers are full) is dropped. Its session, if
    /// any, survives for a resume, as after any lost connection.
    /// </summary>
    private void EnforceDeadlines()
    {
        var sendTimeout = TimeSpan.FromMilliseconds(_options.SendTimeoutMs);
        var firstMessageTimeout = TimeSpan.FromMilliseconds(_options.FirstMessageTimeoutMs);
        foreach (var (connection, protocol) in _open)
        {
            if (connection.IsAborted) continue;
            if (connection.CurrentSendDuration >= sendTimeout)
            {
                _metrics.LimitHit("send-timeout");
                Log.SendTimedOut(_logger, connection.RemoteEndpoint, protocol.Session?.Id);
                connection.Abort();
            }
            else if (protocol.Session is null && !protocol.IsClosing && !connection.IsRelayed && _time.GetElapsedTime(connection.OpenedAt) >= firstMessageTimeout)
            {
                _metrics.LimitHit("first-message");
                _metrics.SocketClosedByServer(CloseCodes.ProtocolViolation);
                protocol.CloseForViolation($"no join or resume within {_options.FirstMessageTimeoutMs} ms");
            }
        }
    }

    public void Dispose() => _heartbeat.Dispose();

    /// <summary>
    /// Closes every socket with 1001 so that clients reconnect (possibly elsewhere) and resume, and completes when the
    /// last one has finished its close handshake (or <paramref name="cancellationToken"/> gives up waiting).
    /// </summary>
    public async Task CloseAllAsync(CancellationToken cancellationToken)
    {
        _closingAll = true;
        foreach (var connection in _open.Keys) connection.Close(CloseCodes.ShuttingDown, "server shutting down");
        if (_open.IsEmpty) _allClosed.TrySetResult();
        await _allClosed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The first message decides where the socket is served: relayed to the node that owns its room or session, or
    /// here. A socket served here records its session in the cluster, so that its resume reaches this node from any other.
    /// </summary>
    private async Task<int?> ServeInClusterAsync(
        WebSocket socket, WebSocketMessageReader reader, WebSocketConnection connection, SignalingConnection protocol, string remoteAddress, bool relayedIn)
    {
        var first = await reader.ReadAsync();
        if (first == IncomingMessage.Close) return reader.CloseStatus;
        // A relayed socket is served here whatever the directory says now: relaying it on could loop between nodes.
        if (first == IncomingMessage.Text && !relayedIn && !protocol.IsClosing && await _placement!.PlaceAsync(reader.Message) is { } ownerUrl)
            return await _relay!.RunAsync(socket, connection, remoteAddress, reader.Message, ownerUrl);
        await DeliverAsync(first, reader, protocol);
        if (protocol.Session is { } session) await _cluster!.SessionServedAsync(session);
        return await ReadMessagesAsync(reader, protocol);
    }

    /// <summary>Reads until the client's close frame (returns its code) or the socket breaks (throws).</summary>
    private static async Task<int?> ReadMessagesAsync(WebSocketMessageReader reader, SignalingConnection protocol)
    {
        while (true)
        {
            var message = await reader.ReadAsync();
            if (message == IncomingMessage.Close) return (int?)reader.CloseStatus;
            await DeliverAsync(message, reader, protocol);
        }
    }

    private static Task DeliverAsync(IncomingMessage message, WebSocketMessageReader reader, SignalingConnection protocol)
    {
        switch (message)
        {
            case IncomingMessage.Oversized: protocol.OnOversizedMessage(); return Task.CompletedTask;
            case IncomingMessage.Binary: protocol.OnBinaryMessage(); return Task.CompletedTask;
            default: return protocol.OnTextMessageAsync(reader.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Debug, Message = "Socket from {RemoteEndpoint} broke: {Reason}")]
        public static partial void SocketBroke(ILogger logger, string remoteEndpoint, string reason);

        [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Refused a socket from {RemoteAddress} that claims to be relayed by a node: its relay headers are not signed with the cluster secret")]
        public static partial void ForgedRelay(ILogger logger, string remoteAddress);

        [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Dropped socket from {RemoteEndpoint} (session {SessionId}): the client stopped reading")]
        public static partial void SendTimedOut(ILogger logger, string remoteEndpoint, string? sessionId);
    }
}
