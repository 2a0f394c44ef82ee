using System.Net;
using System.Net.Sockets;
using Sfu.Media.Transports;

namespace Sfu.Media.IceTcp;

/// <summary>
/// One client's TCP connection to the ICE-TCP port (RFC 6544, the server's passive candidate). Its receive loop cuts
/// the byte stream into RFC 4571 frames and hands them to the listener's queue; its send loop writes what the media
/// worker put in its bounded output buffer. Until a STUN check on it passes a transport's credentials it is
/// unauthenticated: bounded in bytes and time by the listener. Once verified it is one ICE path of that transport.
/// </summary>
public sealed class IceTcpConnection
{
    private const int ReceiveChunk = 16 * 1024;

    private readonly Socket _socket;
    private readonly IceTcpListener _listener;
    private readonly IceTcpFramer _framer;
    private readonly IceTcpOutputBuffer _output;
    private readonly SemaphoreSlim _sendSignal = new(0);
    private int _sendSignalled;
    private int _closed;
    private int _holdsUnauthenticatedSlot = 1;
    private volatile bool _verified;
    private long _unauthenticatedBytes;

    internal IceTcpConnection(Socket socket, IceTcpListener listener, int maxFrameLength, int outputBufferBytes, long acceptedAt)
    {
        _socket = socket;
        _listener = listener;
        _framer = new IceTcpFramer(maxFrameLength);
        _output = new IceTcpOutputBuffer(outputBufferBytes);
        AcceptedAt = acceptedAt;
        var remote = (IPEndPoint)socket.RemoteEndPoint!;
        RemoteEndPoint = remote;
        RemoteAddress = remote.Serialize();
    }

    /// <summary>The client's side of the connection: what a STUN answer on it reports as XOR-MAPPED-ADDRESS.</summary>
    public SocketAddress RemoteAddress { get; }

    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>When the listener accepted it (TimeProvider timestamp): the unauthenticated timeout counts from here.</summary>
    internal long AcceptedAt { get; }

    /// <summary>Whether a STUN check on it passed a transport's credentials.</summary>
    public bool IsVerified => _verified;

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>The transport this connection is a path of. Media worker only.</summary>
    internal WebRtcTransport? Owner { get; set; }

    /// <summary>A transport accepted a check on it: the unauthenticated bounds no longer apply. Media worker.</summary>
    internal void MarkVerified()
    {
        if (_verified) return;
        _verified = true;
        _listener.OnVerified(this);
    }

    /// <summary>True once, for whichever comes first of verification and close: the listener's unauthenticated count drops then.</summary>
    internal bool ReleaseUnauthenticatedSlot() => Interlocked.Exchange(ref _holdsUnauthenticatedSlot, 0) == 1;

    internal void Start()
    {
        _ = ReceiveLoopAsync();
        _ = SendLoopAsync();
    }

    /// <summary>Queues one packet for the client; false when the output buffer is full or the connection closed. Media worker.</summary>
    internal bool TrySend(ReadOnlySpan<byte> packet)
    {
        if (IsClosed || !_output.TryWrite(packet)) return false;
        // Wake the send loop only when it may be asleep: one semaphore release per burst, not per packet.
        if (Interlocked.Exchange(ref _sendSignalled, 1) == 0) _sendSignal.Release();
        return true;
    }

    /// <summary>Closes the socket; both loops end and the listener tells the media worker the path died. Any thread.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        try { _socket.Shutdown(SocketShutdown.Both); }
        catch (SocketException) { /* the peer is gone already */ }
        catch (ObjectDisposedException) { }
        _socket.Dispose();
        _sendSignal.Release();
        _listener.OnClosed(this);
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[ReceiveChunk];
        try
        {
            while (!IsClosed)
            {
                var read = await _socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (read == 0) break;
                if (!_verified && (_unauthenticatedBytes += read) > _listener.MaxUnauthenticatedBytes)
                {
                    _listener.Refused(IceTcpRefusal.UnauthenticatedBytes);
                    break;
                }
                Deliver(buffer.AsSpan(0, read));
            }
        }
        catch (SocketException) { /* reset by the peer: the path is dead, as on a clean close */ }
        catch (ObjectDisposedException) { }
        finally
        {
            Close();
        }
    }

    private void Deliver(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            switch (_framer.TryRead(ref bytes, out var frame))
            {
                case IceTcpFrameStatus.Frame: _listener.Enqueue(this, frame); break;
                case IceTcpFrameStatus.Oversized: _listener.FrameDropped(IceTcpFrameDrop.Oversized); break;
                case IceTcpFrameStatus.Empty: _listener.FrameDropped(IceTcpFrameDrop.Empty); break;
            }
        }
    }

    private async Task SendLoopAsync()
    {
        try
        {
            while (true)
            {
                await _sendSignal.WaitAsync().ConfigureAwait(false);
                if (IsClosed) return;
                // Cleared before reading the buffer: a packet queued from here on signals again, so none is left behind.
                Interlocked.Exchange(ref _sendSignalled, 0);
                for (var pending = _output.PeekContiguous(); !pending.IsEmpty; pending = _output.PeekContiguous())
                {
                    var sent = await _socket.SendAsync(pending, SocketFlags.None).ConfigureAwait(false);
                    _output.Advance(sent);
                }
            }
        }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
        finally
        {
            Close();
        }
    }
}
