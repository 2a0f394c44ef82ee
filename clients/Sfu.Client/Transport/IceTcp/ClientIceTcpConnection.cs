using System.Net;
using System.Net.Sockets;
using Sfu.Media.IceTcp;

namespace Sfu.Client.Transport.IceTcp;

/// <summary>
/// The client's end of ICE-TCP (RFC 6544): the active side, connecting to the server's <c>tcptype passive</c> candidate.
/// Every STUN, DTLS and SRTP packet goes out as one RFC 4571 frame (a 16-bit length, then the packet), written under a
/// lock so that sends from several threads never interleave; received bytes are cut back into packets by the server's
/// own <see cref="IceTcpFramer"/>. With <see cref="IceTcpShaping"/> the writes are coalesced and cut and the reads
/// made small, and the counters show that it happened. A connection that closes is a dead path: reported once, never
/// reopened (the transport opens a new one, see <see cref="ClientTransport.RebindAsync"/>).
/// </summary>
public sealed class ClientIceTcpConnection : IDisposable
{
    // Any frame RFC 4571 can carry, as the UDP receive loop takes any datagram.
    private const int MaxFrameLength = ushort.MaxValue;
    private const int ReceiveChunk = 64 * 1024;

    // Frames held back by shaping wait here; an unshaped send frames into it and writes at once.
    private const int WriteBufferBytes = 16 * 1024;

    private readonly Socket _socket;
    private readonly Lock _writeGate = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly IceTcpShaping? _shaping;
    private readonly byte[] _pending = new byte[WriteBufferBytes];

    // Under _writeGate: where each held frame ends in _pending, and how many to hold before writing.
    private readonly int[] _frameEnds;
    private readonly Random? _writeRandom;
    private int _pendingLength;
    private int _pendingFrames;
    private int _holdFrames = 1;
    private int _closed;

    private long _framesSent;
    private long _framesReceived;
    private long _framesDropped;
    private long _writes;
    private long _writesAcrossFrames;
    private long _cutsInsideFrames;
    private long _reads;
    private long _readsWithSeveralFrames;
    private long _readsEndingInsideAFrame;

    internal ClientIceTcpConnection(IPEndPoint localEndPoint, IceTcpShaping? shaping)
    {
        _shaping = shaping;
        _frameEnds = new int[shaping?.MaxFramesPerWrite ?? 1];
        _writeRandom = shaping is null ? null : new Random(shaping.Seed);
        _socket = new Socket(localEndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.Bind(localEndPoint);
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    /// <summary>The client's side of the connection: what the server's STUN answers report as its mapped address.</summary>
    public IPEndPoint LocalEndPoint { get; }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    public long FramesSent => Interlocked.Read(ref _framesSent);

    public long FramesReceived => Interlocked.Read(ref _framesReceived);

    /// <summary>Received frames of length 0, which carry no packet.</summary>
    public long FramesDropped => Interlocked.Read(ref _framesDropped);

    /// <summary>Socket writes made (with shaping, several per burst).</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>Writes that carried the end of one frame and the start of the next: several frames in one segment.</summary>
    public long WritesAcrossFrames => Interlocked.Read(ref _writesAcrossFrames);

    /// <summary>Places where a write ended inside a frame (its length or its packet): a partial frame for the server.</summary>
    public long CutsInsideFrames => Interlocked.Read(ref _cutsInsideFrames);

    public long Reads => Interlocked.Read(ref _reads);

    /// <summary>Reads that held more than one whole frame.</summary>
    public long ReadsWithSeveralFrames => Interlocked.Read(ref _readsWithSeveralFrames);

    /// <summary>Reads that ended inside a frame, which the framer finished from the next read.</summary>
    public long ReadsEndingInsideAFrame => Interlocked.Read(ref _readsEndingInsideAFrame);

    /// <summary>Frames one packet and writes it (with shaping, maybe later); false when not connected or closed.</summary>
    internal bool Send(ReadOnlySpan<byte> packet)
    {
        if (IsClosed || !_socket.Connected || packet.Length + 2 > WriteBufferBytes)
        {
            return false;
        }

        try
        {
            lock (_writeGate)
            {
                if (_pendingLength + packet.Length + 2 > WriteBufferBytes)
                {
                    WritePending();
                }

                _pendingLength += IceTcpFramer.Write(packet, _pending.AsSpan(_pendingLength));
                _frameEnds[_pendingFrames++] = _pendingLength;
                Interlocked.Increment(ref _framesSent);
                if (_pendingFrames >= _holdFrames)
                {
                    WritePending();
                }
            }

            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Writes the frames shaping held back (heartbeat), so none waits longer than one tick.</summary>
    internal void Flush()
    {
        if (_shaping is null || IsClosed)
        {
            return;
        }

        try
        {
            lock (_writeGate)
            {
                WritePending();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The receive loop reports the dead connection.
        }
    }

    /// <summary>
    /// Connects to <paramref name="server"/>, calls <paramref name="onConnected"/>, and reads frames until the connection ends, handing each packet to
    /// <paramref name="onPacket"/> (in a buffer of its own, writable: SRTP is decrypted in place). Calls
    /// <paramref name="onClosed"/> once with the reason, unless the connection was disposed.
    /// </summary>
    internal async Task RunAsync(IPEndPoint server, Action onConnected, SpanAction onPacket, Action<string> onClosed)
    {
        try
        {
            await _socket.ConnectAsync(server, _stopping.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Close(onClosed, $"ICE-TCP connection to {server} failed: {e.Message}");
            return;
        }

        onConnected();
        var buffer = GC.AllocateUninitializedArray<byte>(ReceiveChunk);
        var packet = GC.AllocateUninitializedArray<byte>(MaxFrameLength);
        var framer = new IceTcpFramer(MaxFrameLength);
        var readRandom = _shaping is null ? null : new Random(_shaping.Seed + 1);
        while (true)
        {
            int read;
            try
            {
                int wanted = readRandom?.Next(1, Math.Min(_shaping!.MaxReadChunk, buffer.Length) + 1) ?? buffer.Length;
                read = await _socket.ReceiveAsync(buffer.AsMemory(0, wanted), SocketFlags.None, _stopping.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                Close(onClosed, $"ICE-TCP connection lost: {e.Message}");
                return;
            }

            if (read == 0)
            {
                Close(onClosed, "ICE-TCP connection closed by the other end");
                return;
            }

            Deliver(framer, buffer.AsSpan(0, read), packet, onPacket);
        }
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _closed, 1);
        _stopping.Cancel();
        _socket.Dispose();
    }

    /// <summary>What receives a packet: a span cannot be an <see cref="Action{T}"/>'s argument.</summary>
    internal delegate void SpanAction(Span<byte> packet);

    private void Deliver(IceTcpFramer framer, ReadOnlySpan<byte> bytes, byte[] packet, SpanAction onPacket)
    {
        Interlocked.Increment(ref _reads);
        int frames = 0;
        var status = IceTcpFrameStatus.NeedMore;
        while (!bytes.IsEmpty)
        {
            status = framer.TryRead(ref bytes, out var frame);
            if (status == IceTcpFrameStatus.Frame)
            {
                frames++;
                Interlocked.Increment(ref _framesReceived);
                frame.CopyTo(packet);
                try
                {
                    onPacket(packet.AsSpan(0, frame.Length));
                }
                catch (Exception) when (!IsClosed)
                {
                    // A listener that throws must not end the connection; the packet is simply lost.
                }
            }
            else if (status is IceTcpFrameStatus.Empty or IceTcpFrameStatus.Oversized)
            {
                Interlocked.Increment(ref _framesDropped);
            }
        }

        if (frames > 1)
        {
            Interlocked.Increment(ref _readsWithSeveralFrames);
        }

        // Given bytes, the framer says NeedMore only when they ran out inside a frame.
        if (status == IceTcpFrameStatus.NeedMore)
        {
            Interlocked.Increment(ref _readsEndingInsideAFrame);
        }
    }

    /// <summary>Writes what is held: at once, or with shaping in pieces cut at random offsets. Under <see cref="_writeGate"/>.</summary>
    private void WritePending()
    {
        int length = _pendingLength;
        int frames = _pendingFrames;
        _pendingLength = 0;
        _pendingFrames = 0;
        if (length == 0)
        {
            return;
        }

        if (_writeRandom is null)
        {
            WriteAll(_pending.AsSpan(0, length));
            return;
        }

        _holdFrames = _writeRandom.Next(1, _shaping!.MaxFramesPerWrite + 1);
        for (int start = 0; start < length;)
        {
            int end = Math.Min(length, start + _writeRandom.Next(1, _shaping.MaxPiece + 1));
            WriteAll(_pending.AsSpan(start, end - start));
            CountPiece(start, end, frames);
            start = end;
        }
    }

    /// <summary>Counts what the piece [start, end) of a burst of frames does to the server's reads.</summary>
    private void CountPiece(int start, int end, int frames)
    {
        bool endsOnABoundary = false;
        bool crossesABoundary = false;
        foreach (int frameEnd in _frameEnds.AsSpan(0, frames))
        {
            endsOnABoundary |= frameEnd == end;
            crossesABoundary |= frameEnd > start && frameEnd < end;
        }

        if (crossesABoundary)
        {
            Interlocked.Increment(ref _writesAcrossFrames);
        }

        if (!endsOnABoundary)
        {
            Interlocked.Increment(ref _cutsInsideFrames);
        }
    }

    private void WriteAll(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            int sent = _socket.Send(bytes);
            bytes = bytes[sent..];
            Interlocked.Increment(ref _writes);
        }
    }

    private void Close(Action<string> onClosed, string reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            _socket.Dispose();
            onClosed(reason);
        }
    }
}
