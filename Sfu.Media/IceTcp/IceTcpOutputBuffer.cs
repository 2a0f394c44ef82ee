namespace Sfu.Media.IceTcp;

/// <summary>
/// What the media worker has framed for one ICE-TCP connection and its sender has not written to the socket yet: a
/// ring of fixed size, so a connection whose client reads slowly costs at most that many bytes. One writer (the media
/// worker) and one reader (the connection's send loop) share it without a lock: each side moves only its own position.
/// </summary>
internal sealed class IceTcpOutputBuffer(int capacity)
{
    private readonly byte[] _ring = GC.AllocateArray<byte>(capacity, pinned: true);
    private long _written;
    private long _read;

    public int Capacity => _ring.Length;

    /// <summary>Bytes waiting to be sent.</summary>
    public int Pending => (int)(Volatile.Read(ref _written) - Volatile.Read(ref _read));

    /// <summary>Appends one packet with its RFC 4571 length; false (nothing written) when it does not fit. Writer only.</summary>
    public bool TryWrite(ReadOnlySpan<byte> packet)
    {
        var needed = packet.Length + 2;
        if (packet.Length > ushort.MaxValue || _ring.Length - Pending < needed) return false;
        Span<byte> header = [(byte)(packet.Length >> 8), (byte)packet.Length];
        var position = _written;
        Copy(header, ref position);
        Copy(packet, ref position);
        // Published after the bytes: the reader never sees a position past bytes not yet copied.
        Volatile.Write(ref _written, position);
        return true;
    }

    /// <summary>The longest run of pending bytes that lies in one piece in the ring; empty when nothing is pending. Reader only.</summary>
    public ReadOnlyMemory<byte> PeekContiguous()
    {
        var pending = Pending;
        if (pending == 0) return ReadOnlyMemory<byte>.Empty;
        var start = (int)(_read % _ring.Length);
        return _ring.AsMemory(start, Math.Min(pending, _ring.Length - start));
    }

    /// <summary>Marks <paramref name="count"/> bytes as sent, freeing their room for the writer. Reader only.</summary>
    public void Advance(int count) => Volatile.Write(ref _read, _read + count);

    private void Copy(ReadOnlySpan<byte> source, ref long position)
    {
        var start = (int)(position % _ring.Length);
        var first = Math.Min(source.Length, _ring.Length - start);
        source[..first].CopyTo(_ring.AsSpan(start));
        source[first..].CopyTo(_ring);
        position += source.Length;
    }
}
