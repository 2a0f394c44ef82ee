using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Sfu.Media.Diagnostics;
using Sfu.Media.Dtls;
using Sfu.Media.IceTcp;
using Sfu.Media.Pipes;
using Sfu.Media.Routing;
using Sfu.Media.Transports;
using Sfu.Media.Udp;

namespace Sfu.Media.Worker;

/// <summary>
/// One media thread, in the manner of mediasoup's worker (a server runs one per core, <see cref="MediaWorkerPool"/>):
/// it owns its UDP port and its routers (<see cref="CreateRouter"/>), which own every transport, producer and consumer
/// on it; it runs their packet path and timers. Nothing media-side needs a lock, and a packet is forwarded to every
/// subscriber on this worker in the same loop turn it arrived in; subscribers of the same room on other workers get it
/// through a <see cref="Pipes.WorkerPipe"/>, drained by their worker. Control-plane code reaches in only through
/// <see cref="InvokeAsync{T}"/>; what lives on the worker sees it only as an <see cref="IMediaHost"/>.
/// </summary>
public sealed partial class MediaWorker : ITransportHost, IDisposable
{
    private const int MaxDatagram = UdpPort.MaxReceivedDatagram;
    private const int TickIntervalMs = 20;
    private const int MaxReceiveBatchesPerTurn = 256 / UdpPort.ReceiveBatchSize;
    private const int MaxPipeEntriesPerTurn = 256;

    private readonly IDatagramPort _port;
    private readonly IceTcpListener? _tcp;
    private readonly HashSet<IPAddress> _relayAddresses;
    private static readonly IPEndPoint AnyEndPoint = new(IPAddress.Any, 0);
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<Action> _commands = new();
    private readonly TransportTable _table = new();
    private readonly HashSet<Router> _routers = [];
    private readonly List<IPipeReceiver> _pipeReceivers = [];
    private readonly SocketAddress _from;
    private readonly Thread _thread;
    private long _nextTick;
    private long? _dispatchedArrival;

    // The earliest arrival dispatched in this loop turn (long.MaxValue: none yet), for the residence histogram.
    private long _earliestArrivalThisTurn = long.MaxValue;
    private volatile bool _stopping;

    /// <summary>Worker number <paramref name="index"/>: it listens on <see cref="MediaOptions.Port"/> + index.</summary>
    public MediaWorker(MediaOptions options, TimeProvider time, MediaMetrics metrics, ILogger<MediaWorker> logger, int index = 0)
        : this(options, time, metrics, logger, new UdpPort(IPAddress.Parse(Validated(options).BindAddress), options.Port == 0 ? 0 : options.Port + index, metrics), index)
    {
    }

    /// <summary>A worker on <paramref name="port"/>: the UDP socket in production, an in-memory network in tests.</summary>
    internal MediaWorker(MediaOptions options, TimeProvider time, MediaMetrics metrics, ILogger<MediaWorker> logger, IDatagramPort port, int index = 0)
    {
        Options = Validated(options);
        Index = index;
        _time = time;
        Metrics = metrics;
        _logger = logger;
        _port = port;
        _from = new SocketAddress(_port.LocalEndPoint.AddressFamily);
        AnnouncedAddress = ResolveAnnouncedAddress(options.AnnouncedAddress, _port.LocalEndPoint.Address);
        _relayAddresses = [.. options.RelayAddresses.Select(IPAddress.Parse)];
        if (options.TcpEnabled) _tcp = IceTcpListener.Open(options, index, _port.LocalEndPoint, MaxDatagram, time, metrics, logger, _port.Wake);
        _thread = new Thread(Run) { IsBackground = true, Name = $"sfu-media-{index}" };
        _thread.Start();
        Log.Started(_logger, index, _port.LocalEndPoint, AnnouncedAddress);
        if (_tcp is not null) Log.TcpStarted(_logger, _tcp.LocalEndPoint);
    }

    public MediaOptions Options { get; }

    /// <summary>This worker's number in its pool, from 0.</summary>
    public int Index { get; }

    /// <summary>Transports open on this worker: what room and subscriber placement balance. Any thread.</summary>
    public int Load => _table.Count;

    // Before the port opens, so that a refused configuration leaves no socket behind.
    private static MediaOptions Validated(MediaOptions options) =>
        options.MaxPublishBitrate < Congestion.RemoteEstimator.MinBitrate
            ? throw new ArgumentOutOfRangeException(nameof(options), options.MaxPublishBitrate, $"Sfu:Media:MaxPublishBitrate must be at least {Congestion.RemoteEstimator.MinBitrate} bits/s")
            : options;

    public MediaMetrics Metrics { get; }

    public TimeProvider Time => _time;

    /// <summary>The bound UDP port (the configured one, or the one the OS picked for port 0).</summary>
    public int Port => _port.LocalEndPoint.Port;

    /// <summary>The bound ICE-TCP port; null when ICE-TCP is off.</summary>
    public int? TcpPort => _tcp?.LocalEndPoint.Port;

    /// <summary>The IP written into ICE candidates.</summary>
    public IPAddress AnnouncedAddress { get; }

    TransportTable ITransportHost.Table => _table;

    /// <summary>
    /// Scratch space for building one outgoing packet (forwarded RTP, RTCP reports). One is enough: the worker
    /// builds and sends a packet before it starts the next.
    /// </summary>
    byte[] IMediaHost.SendBuffer => _sendBuffer;

    private readonly byte[] _sendBuffer = GC.AllocateArray<byte>(MaxDatagram + WebRtcTransport.MaxProtectionOverhead + 64, pinned: true);

    /// <summary>A new room's router, owned by this worker until it is disposed. Worker thread only.</summary>
    public Router CreateRouter(string id, DtlsContext dtls)
    {
        var router = new Router(id, this, this, dtls, closed => _routers.Remove(closed));
        _routers.Add(router);
        return router;
    }

    /// <summary>The routers open on this worker. Worker thread only.</summary>
    public int RouterCount => _routers.Count;

    /// <summary>
    /// Runs <paramref name="work"/> on the worker thread and returns its result (or exception). What the work sent has
    /// left the port by then: the caller may look for it on the wire.
    /// </summary>
    public Task<T> InvokeAsync<T>(Func<T> work)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            try
            {
                var result = work();
                _port.Flush();
                completion.SetResult(result);
            }
            catch (Exception ex) { completion.SetException(ex); }
        });
        return completion.Task;
    }

    public Task InvokeAsync(Action work) => InvokeAsync(() =>
    {
        work();
        return true;
    });

    /// <summary>Makes the worker run a loop turn now (a pipe to it has entries). Any thread.</summary>
    internal void Wake() => _port.Wake();

    void ITransportHost.AddPipeReceiver(IPipeReceiver receiver) => _pipeReceivers.Add(receiver);

    void ITransportHost.RemovePipeReceiver(IPipeReceiver receiver) => _pipeReceivers.Remove(receiver);

    /// <summary>Queues <paramref name="work"/> for the worker thread without waiting; the worker runs it at once.</summary>
    public void Post(Action work)
    {
        _commands.Enqueue(work);
        _port.Wake();
    }

    /// <summary>
    /// When the datagram (or ICE-TCP frame) being dispatched reached this host, on <see cref="Time"/>'s clock: the
    /// kernel's receive stamp for UDP, the moment the worker took the frame for TCP; outside a dispatch, now.
    /// Congestion feedback reports this, so that time a datagram spent waiting for a busy worker does not look like a
    /// queue on the sender's path. Worker thread only.
    /// </summary>
    long IMediaHost.ArrivalTime => _dispatchedArrival ?? _time.GetTimestamp();

    /// <summary>
    /// Queues one datagram on the media port; the loop flushes the batch at the end of its turn, or the port when the
    /// batch is full. True when queued: what the kernel then refuses is counted as a drop (DropReason.SendFailed).
    /// Worker thread only.
    /// </summary>
    bool ITransportHost.Send(ReadOnlySpan<byte> datagram, SocketAddress to) => _port.TrySend(datagram, to);

    /// <summary>Queues one packet, framed, on an ICE-TCP connection. Worker thread only.</summary>
    bool ITransportHost.SendTcp(ReadOnlySpan<byte> packet, IceTcpConnection connection)
    {
        if (!connection.TrySend(packet))
        {
            if (!connection.IsClosed) Metrics.TcpFrameDropped(IceTcpFrameDrop.OutputFull);
            Metrics.Dropped(DropReason.SendFailed);
            return false;
        }
        Metrics.Sent(packet.Length);
        return true;
    }

    /// <summary>Whether a client address is a TURN relay's (<see cref="MediaOptions.RelayAddresses"/>): how paths are counted, nothing more.</summary>
    bool ITransportHost.IsRelayAddress(SocketAddress address) =>
        _relayAddresses.Count > 0 && _relayAddresses.Contains(((IPEndPoint)AnyEndPoint.Create(address)).Address);

    private void Run()
    {
        while (!_stopping)
        {
            try
            {
                // Sleeps until a datagram, a queued command (Post wakes the port) or the next tick, whichever is first.
                if (_port.Wait(TimeSpan.FromMilliseconds(_nextTick - Environment.TickCount64))) ReceiveAvailable();
                if (_tcp is not null) ReceiveTcp(_tcp);
                if (_pipeReceivers.Count > 0) DrainPipes();
                RunCommands();
                // The cadence is real time, the rules inside read the TimeProvider: with a manual clock in tests,
                // timers still get looked at every tick, at whatever instant the test has moved the clock to.
                var tickCount = Environment.TickCount64;
                if (tickCount >= _nextTick)
                {
                    _nextTick = tickCount + TickIntervalMs;
                    var now = _time.GetTimestamp();
                    var timersStarted = Stopwatch.GetTimestamp();
                    _table.Tick(now);
                    foreach (var receiver in _pipeReceivers) receiver.OnTick(now);
                    Metrics.TimersRan(Stopwatch.GetElapsedTime(timersStarted));
                    // Read here because only this thread can read its own count; a scrape sees it at most one tick old.
                    Metrics.WorkerAllocated(GC.GetAllocatedBytesForCurrentThread());
                }
                // Once per turn: what the datagrams received, the commands and the timers above queued leaves together.
                _port.Flush();
                ObserveResidence();
            }
            catch (Exception ex) when (!_stopping)
            {
                // A bug in one transport must not stop media for everyone: log it and keep the loop alive.
                Log.LoopFailed(_logger, ex);
            }
        }
    }

    private void ReceiveAvailable()
    {
        // Bounded, so that commands and timers still run under a flood.
        for (var batch = 0; batch < MaxReceiveBatchesPerTurn; batch++)
        {
            var count = _port.ReceiveBatch();
            var now = _time.GetTimestamp();
            var wallNow = ArrivalClock.WallNow();
            for (var i = 0; i < count; i++)
            {
                var datagram = _port.Received(i, _from);
                Metrics.Received(datagram.Length);
                DispatchArrived(datagram, _from, ArrivalClock.ToWorkerTime(_port.ReceivedAt(i), now, wallNow, _time.TimestampFrequency));
            }
            if (count < UdpPort.ReceiveBatchSize) return;
        }
    }

    /// <summary>
    /// ICE-TCP frames the listener's I/O threads queued, dispatched like datagrams; then connections that closed, whose
    /// paths died. Bounded like <see cref="ReceiveAvailable"/>; if frames remain, the worker wakes itself for another turn.
    /// </summary>
    private void ReceiveTcp(IceTcpListener tcp)
    {
        tcp.BeginDrain();
        for (var i = 0; i < 256; i++)
        {
            if (!tcp.TryDequeue(out var frame)) break;
            try
            {
                // Frames queued before their connection closed: the path is gone, like a datagram from a forgotten address.
                if (frame.Connection.IsClosed) Metrics.Dropped(DropReason.UnknownSource);
                else
                {
                    Metrics.Received(frame.Length);
                    DispatchArrived(frame.Buffer.AsSpan(0, frame.Length), frame.Connection.RemoteAddress, _time.GetTimestamp(), frame.Connection);
                }
            }
            finally
            {
                tcp.Release(frame);
            }
            if (i == 255) _port.Wake();
        }
        while (tcp.TryDequeueClosed(out var connection)) connection.Owner?.OnTcpConnectionClosed(connection);
    }

    /// <summary>
    /// What other workers piped here for this worker's subscribers, bounded per pipe like the socket's batches; a pipe
    /// with more waiting makes the worker come straight back.
    /// </summary>
    private void DrainPipes()
    {
        foreach (var receiver in _pipeReceivers)
        {
            if (receiver.Drain(MaxPipeEntriesPerTurn)) _port.Wake();
        }
    }

    /// <summary>
    /// How long the turn's earliest datagram stayed in the server: one observation per turn (the last copy a turn sends
    /// leaves with its final flush, so this bounds every datagram of the turn), never one per forwarded copy.
    /// </summary>
    private void ObserveResidence()
    {
        if (_earliestArrivalThisTurn == long.MaxValue) return;
        Metrics.TurnFlushed(_time.GetElapsedTime(_earliestArrivalThisTurn));
        _earliestArrivalThisTurn = long.MaxValue;
    }

    private void DispatchArrived(Span<byte> datagram, SocketAddress from, long arrival, IceTcpConnection? tcp = null)
    {
        _dispatchedArrival = arrival;
        if (arrival < _earliestArrivalThisTurn) _earliestArrivalThisTurn = arrival;
        try
        {
            Dispatch(datagram, from, tcp);
        }
        finally
        {
            _dispatchedArrival = null;
        }
    }

    /// <summary>
    /// Classifies a datagram by its first byte (RFC 7983) and hands it to the transport its source address
    /// belongs to. Unknown sources are accepted only through STUN, whose USERNAME names the transport.
    /// </summary>
    private void Dispatch(Span<byte> datagram, SocketAddress from, IceTcpConnection? tcp = null)
    {
        if (datagram.IsEmpty)
        {
            Metrics.Dropped(DropReason.Malformed);
            return;
        }
        var first = datagram[0];
        var known = tcp is null ? _table.FindByAddress(from) : tcp.Owner;
        switch (first)
        {
            case <= 3:
                // By USERNAME first: it names the transport, and an address another transport used (a NAT port handed
                // to a different client) must not swallow the new client's checks.
                var target = _table.FindByStunUsername(datagram) ?? known;
                if (target is null) Metrics.Dropped(DropReason.UnknownSource);
                else target.ReceiveStun(datagram, from, tcp);
                return;
            case >= 20 and <= 63:
                if (known is null) Metrics.Dropped(DropReason.UnknownSource);
                else known.ReceiveDtls(datagram, from, tcp);
                return;
            case >= 128 and <= 191:
                if (known is null) Metrics.Dropped(DropReason.UnknownSource);
                else known.ReceiveRtpOrRtcp(datagram, from, tcp);
                return;
            default:
                Metrics.Dropped(DropReason.Malformed);
                return;
        }
    }

    private void RunCommands()
    {
        while (_commands.TryDequeue(out var command)) command();
    }

    private static IPAddress ResolveAnnouncedAddress(string? configured, IPAddress bound)
    {
        if (!string.IsNullOrWhiteSpace(configured)) return IPAddress.Parse(configured);
        if (!bound.Equals(IPAddress.Any) && !bound.Equals(IPAddress.IPv6Any)) return bound;
        // Prefer an address other hosts can reach; fall back to loopback on a machine with none.
        return System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            ?? IPAddress.Loopback;
    }

    public void Dispose()
    {
        _stopping = true;
        _port.Wake();
        _thread.Join(TimeSpan.FromSeconds(2));
        foreach (var router in _routers.ToArray()) router.Dispose();
        _table.DisposeAll();
        _tcp?.Dispose();
        _port.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Media worker {Worker} listening on udp {LocalEndPoint}, announcing {AnnouncedAddress}")]
        public static partial void Started(ILogger logger, int worker, IPEndPoint localEndPoint, IPAddress announcedAddress);

        [LoggerMessage(EventId = 502, Level = LogLevel.Information, Message = "Media worker listening on tcp {LocalEndPoint} (ICE-TCP, passive)")]
        public static partial void TcpStarted(ILogger logger, IPEndPoint localEndPoint);

        [LoggerMessage(EventId = 501, Level = LogLevel.Error, Message = "Media worker loop iteration failed")]
        public static partial void LoopFailed(ILogger logger, Exception exception);
    }
}
