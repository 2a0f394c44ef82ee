using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Sfu.Media.Diagnostics;

namespace Sfu.Media.IceTcp;

/// <summary>Why the listener closed or refused a connection before it was verified: label values of <c>sfu_media_tcp_refused_total</c>.</summary>
public enum IceTcpRefusal
{
    TooManyUnauthenticated,
    UnauthenticatedTimeout,
    UnauthenticatedBytes,
}

/// <summary>Frames that never reach the media worker: label values of <c>sfu_media_tcp_frames_dropped_total</c>.</summary>
public enum IceTcpFrameDrop
{
    Oversized,
    Empty,
    QueueFull,
    OutputFull,
}

/// <summary>One RFC 4571 frame waiting for the media worker, in a pooled array it returns through <see cref="IceTcpListener.Release"/>.</summary>
public readonly record struct IceTcpFrame(IceTcpConnection Connection, byte[] Buffer, int Length);

/// <summary>
/// The ICE-TCP port (RFC 6544, passive): accepts connections on the thread pool and runs their socket I/O there, so
/// the media worker never blocks on TCP. Complete frames go into one queue bounded in bytes, which the worker drains
/// after the eventfd wake; closed connections go into a second queue, so the worker learns of a dead path even when
/// frames are being dropped. Connections that have not passed a STUN check are bounded in number, bytes and time;
/// every refusal is counted.
/// </summary>
public sealed partial class IceTcpListener : IDisposable
{
    private readonly Socket _socket;
    private readonly IceTcpOptions _options;
    private readonly TimeProvider _time;
    private readonly MediaMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Action _wakeWorker;
    private readonly ConcurrentQueue<IceTcpFrame> _frames = new();
    private readonly ConcurrentQueue<IceTcpConnection> _closed = new();
    private readonly ConcurrentDictionary<IceTcpConnection, byte> _connections = new();
    private readonly ITimer _sweep;
    private readonly long _unauthenticatedTimeout;
    private long _queuedBytes;
    private int _unauthenticated;
    private int _wakeRequested;
    private volatile bool _disposed;

    public IceTcpListener(IPEndPoint bindTo, IceTcpOptions options, TimeProvider time, MediaMetrics metrics, ILogger logger, Action wakeWorker)
    {
        _options = options;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _wakeWorker = wakeWorker;
        _unauthenticatedTimeout = options.UnauthenticatedTimeoutMs * time.TimestampFrequency / 1000;
        _socket = new Socket(bindTo.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _socket.Bind(bindTo);
        _socket.Listen(512);
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        // One walk over the connections per second, as Kestrel's heartbeat does, instead of a timer per connection.
        _sweep = time.CreateTimer(_ => CloseStaleUnauthenticated(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        _ = AcceptLoopAsync();
    }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>
    /// Listens on <see cref="MediaOptions.TcpPort"/> plus the worker's index, or on the worker's UDP port number when
    /// that is unset. When the UDP port was picked by the OS (port 0, tests) and its number is taken on TCP, the OS
    /// picks the TCP port too.
    /// </summary>
    public static IceTcpListener Open(MediaOptions options, int workerIndex, IPEndPoint udp, int maxFrameLength, TimeProvider time, MediaMetrics metrics, ILogger logger, Action wakeWorker)
    {
        var settings = IceTcpOptions.From(options, maxFrameLength);
        var port = options.TcpPort + workerIndex ?? udp.Port;
        try
        {
            return new IceTcpListener(new IPEndPoint(udp.Address, port), settings, time, metrics, logger, wakeWorker);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse && options.TcpPort is null && options.Port == 0)
        {
            return new IceTcpListener(new IPEndPoint(udp.Address, 0), settings, time, metrics, logger, wakeWorker);
        }
    }

    internal long MaxUnauthenticatedBytes => _options.UnauthenticatedMaxBytes;

    /// <summary>Bytes of frames waiting for the media worker.</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>The next frame, if any; the worker hands its buffer back through <see cref="Release"/>. Media worker.</summary>
    public bool TryDequeue(out IceTcpFrame frame) => _frames.TryDequeue(out frame);

    public void Release(IceTcpFrame frame)
    {
        Interlocked.Add(ref _queuedBytes, -frame.Buffer.Length);
        ArrayPool<byte>.Shared.Return(frame.Buffer);
    }

    /// <summary>A connection that closed since the last call: every path over it is dead. Media worker.</summary>
    public bool TryDequeueClosed(out IceTcpConnection connection) => _closed.TryDequeue(out connection!);

    /// <summary>
    /// Called by the worker before it drains the queues: frames that arrive from here on wake it again. Without this,
    /// a frame queued while the worker drains would wait for its next tick.
    /// </summary>
    public void BeginDrain() => Interlocked.Exchange(ref _wakeRequested, 0);

    internal void Enqueue(IceTcpConnection connection, ReadOnlySpan<byte> frame)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(frame.Length);
        if (Interlocked.Add(ref _queuedBytes, buffer.Length) > _options.ReceiveQueueBytes)
        {
            Interlocked.Add(ref _queuedBytes, -buffer.Length);
            ArrayPool<byte>.Shared.Return(buffer);
            FrameDropped(IceTcpFrameDrop.QueueFull);
            return;
        }
        frame.CopyTo(buffer);
        _frames.Enqueue(new IceTcpFrame(connection, buffer, frame.Length));
        WakeWorker();
    }

    internal void FrameDropped(IceTcpFrameDrop reason) => _metrics.TcpFrameDropped(reason);

    internal void Refused(IceTcpRefusal reason)
    {
        _metrics.TcpRefused(reason);
        Log.Refused(_logger, reason);
    }

    internal void OnVerified(IceTcpConnection connection)
    {
        if (connection.ReleaseUnauthenticatedSlot()) Interlocked.Decrement(ref _unauthenticated);
        _metrics.TcpConnectionVerified();
    }

    internal void OnClosed(IceTcpConnection connection)
    {
        if (!_connections.TryRemove(connection, out _)) return;
        if (connection.ReleaseUnauthenticatedSlot()) Interlocked.Decrement(ref _unauthenticated);
        _metrics.TcpConnectionClosed(connection.IsVerified);
        _closed.Enqueue(connection);
        WakeWorker();
    }

    private void WakeWorker()
    {
        if (Interlocked.Exchange(ref _wakeRequested, 1) == 0) _wakeWorker();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_disposed)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync().ConfigureAwait(false);
            }
            catch (SocketException) when (!_disposed)
            {
                continue; // a connection reset before it was accepted
            }
            catch (Exception) when (_disposed)
            {
                return;
            }
            if (Interlocked.Increment(ref _unauthenticated) > _options.MaxUnauthenticatedConnections)
            {
                Interlocked.Decrement(ref _unauthenticated);
                Refused(IceTcpRefusal.TooManyUnauthenticated);
                client.Dispose();
                continue;
            }
            client.NoDelay = true;
            IceTcpConnection connection;
            try
            {
                connection = new IceTcpConnection(client, this, _options.MaxFrameLength, _options.OutputBufferBytes, _time.GetTimestamp());
            }
            catch (SocketException)
            {
                Interlocked.Decrement(ref _unauthenticated);
                client.Dispose(); // gone before we could read its address
                continue;
            }
            _connections[connection] = 0;
            _metrics.TcpConnectionAccepted();
            connection.Start();
        }
    }

    private void CloseStaleUnauthenticated()
    {
        var now = _time.GetTimestamp();
        foreach (var connection in _connections.Keys)
        {
            if (connection.IsVerified || now - connection.AcceptedAt < _unauthenticatedTimeout) continue;
            Refused(IceTcpRefusal.UnauthenticatedTimeout);
            connection.Close();
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _sweep.Dispose();
        _socket.Dispose();
        foreach (var connection in _connections.Keys) connection.Close();
        while (_frames.TryDequeue(out var frame)) Release(frame);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 520, Level = LogLevel.Debug, Message = "ICE-TCP connection refused or closed before its first valid check: {Reason}")]
        public static partial void Refused(ILogger logger, IceTcpRefusal reason);
    }
}
