using System.Buffers.Binary;

namespace Sfu.Client.Media;

/// <summary>
/// Writes an RTP fixed header (RFC 3550) and, when extensions are added, a one-byte-header extension block
/// (RFC 8285), into a caller's buffer. Call <see cref="Finish"/> before writing the payload at the offset it returns.
/// </summary>
public ref struct RtpHeaderWriter
{
    public const int FixedHeaderLength = 12;

    private readonly Span<byte> _buffer;
    private int _length;
    private bool _hasExtensions;

    public RtpHeaderWriter(Span<byte> buffer, byte payloadType, ushort sequenceNumber, uint timestamp, uint ssrc, bool marker = false)
    {
        _buffer = buffer;
        buffer[0] = 0x80;
        buffer[1] = (byte)((marker ? 0x80 : 0) | (payloadType & 0x7F));
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], sequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[8..], ssrc);
        _length = FixedHeaderLength;
        _hasExtensions = false;
    }

    /// <summary>Adds one element (id 1..14, 1..16 bytes of value). Ids of 0 are skipped: "not negotiated".</summary>
    public void AddExtension(int id, scoped ReadOnlySpan<byte> value)
    {
        if (id is < 1 or > 14 || value.Length is < 1 or > 16)
        {
            return;
        }

        if (!_hasExtensions)
        {
            _buffer[0] |= 0x10;
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[_length..], 0xBEDE);
            _length += 4;
            _hasExtensions = true;
        }

        _buffer[_length++] = (byte)((id << 4) | (value.Length - 1));
        value.CopyTo(_buffer[_length..]);
        _length += value.Length;
    }

    /// <summary>Pads the extension block to whole words, writes its length and returns where the payload starts.</summary>
    public int Finish()
    {
        if (_hasExtensions)
        {
            while ((_length - FixedHeaderLength) % 4 != 0)
            {
                _buffer[_length++] = 0;
            }

            int words = (_length - FixedHeaderLength - 4) / 4;
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[(FixedHeaderLength + 2)..], (ushort)words);
        }

        return _length;
    }
}
