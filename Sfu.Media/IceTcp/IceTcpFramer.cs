namespace Sfu.Media.IceTcp;

/// <summary>What <see cref="IceTcpFramer.TryRead"/> found in the bytes it was given.</summary>
public enum IceTcpFrameStatus
{
    /// <summary>The input ended inside a frame (or between frames): read more from the socket.</summary>
    NeedMore,

    /// <summary>A whole frame: one STUN, DTLS or SRTP packet.</summary>
    Frame,

    /// <summary>A frame longer than the largest packet the media path takes; its bytes are skipped, the stream stays in step.</summary>
    Oversized,

    /// <summary>A frame of length 0: nothing to hand on.</summary>
    Empty,
}

/// <summary>
/// RFC 4571 framing, as ICE-TCP (RFC 6544) uses it: every packet is preceded by its length as a 16-bit big-endian
/// number. TCP hands over bytes, not packets, so a read may end anywhere (inside the length, inside a packet) and may
/// hold several packets; the framer keeps what it has of an unfinished packet between reads. One per connection,
/// used by one thread at a time; its buffer is bounded by <c>maxFrameLength</c>.
/// </summary>
public sealed class IceTcpFramer
{
    private readonly byte[] _partial;
    private int _headerBytes;
    private int _length;
    private int _filled;

    public IceTcpFramer(int maxFrameLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrameLength, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFrameLength, ushort.MaxValue);
        _partial = new byte[maxFrameLength];
    }

    public int MaxFrameLength => _partial.Length;

    /// <summary>
    /// Consumes bytes of <paramref name="input"/> up to the end of the next frame and says what it found. The frame
    /// (<see cref="IceTcpFrameStatus.Frame"/>) is a slice of the input when the read held all of it, otherwise of the
    /// framer's own buffer; either way it is valid only until the next call. Call again while the input is not empty.
    /// </summary>
    public IceTcpFrameStatus TryRead(ref ReadOnlySpan<byte> input, out ReadOnlySpan<byte> frame)
    {
        frame = default;
        while (_headerBytes < 2)
        {
            if (input.IsEmpty) return IceTcpFrameStatus.NeedMore;
            _length = (_length << 8) | input[0];
            input = input[1..];
            _headerBytes++;
            if (_headerBytes < 2) continue;
            if (_length == 0)
            {
                Reset();
                return IceTcpFrameStatus.Empty;
            }
            if (_length > _partial.Length) return IceTcpFrameStatus.Oversized;
        }

        var missing = _length - _filled;
        if (_length > _partial.Length)
        {
            // Skipping an oversized frame: its bytes go nowhere.
            var skipped = Math.Min(missing, input.Length);
            input = input[skipped..];
            _filled += skipped;
            if (_filled == _length) Reset();
            return IceTcpFrameStatus.NeedMore;
        }
        if (_filled == 0 && input.Length >= _length)
        {
            frame = input[.._length];
            input = input[_length..];
            Reset();
            return IceTcpFrameStatus.Frame;
        }
        var copied = Math.Min(missing, input.Length);
        input[..copied].CopyTo(_partial.AsSpan(_filled));
        input = input[copied..];
        _filled += copied;
        if (_filled < _length) return IceTcpFrameStatus.NeedMore;
        frame = _partial.AsSpan(0, _length);
        Reset();
        return IceTcpFrameStatus.Frame;
    }

    /// <summary>Writes <paramref name="packet"/> with its RFC 4571 length in front; returns the bytes written.</summary>
    public static int Write(ReadOnlySpan<byte> packet, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(packet.Length, ushort.MaxValue);
        destination[0] = (byte)(packet.Length >> 8);
        destination[1] = (byte)packet.Length;
        packet.CopyTo(destination[2..]);
        return packet.Length + 2;
    }

    private void Reset()
    {
        _headerBytes = 0;
        _length = 0;
        _filled = 0;
    }
}
