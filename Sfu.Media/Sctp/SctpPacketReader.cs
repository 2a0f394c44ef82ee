using System.Buffers.Binary;

namespace Sfu.Media.Sctp;

/// <summary>One chunk of a received packet: its type, flags and value (the bytes after the 4-byte chunk header).</summary>
public readonly ref struct SctpChunk(byte type, byte flags, ReadOnlySpan<byte> value)
{
    public byte Type { get; } = type;

    public byte Flags { get; } = flags;

    public ReadOnlySpan<byte> Value { get; } = value;
}

/// <summary>
/// Reads a received SCTP packet: the common header (RFC 9260 section 3.1) once, then its chunks one at a time.
/// Never throws for the packet's content: a packet too short or with a wrong checksum fails <see cref="TryOpen"/>,
/// a chunk whose length runs past the packet ends the walk with <see cref="Malformed"/> set.
/// </summary>
public ref struct SctpPacketReader
{
    public const int HeaderLength = 12;

    private readonly ReadOnlySpan<byte> _packet;
    private int _offset;

    private SctpPacketReader(ReadOnlySpan<byte> packet)
    {
        _packet = packet;
        _offset = HeaderLength;
    }

    public readonly ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_packet);

    public readonly ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_packet[2..]);

    public readonly uint VerificationTag => BinaryPrimitives.ReadUInt32BigEndian(_packet[4..]);

    /// <summary>A chunk header or length that does not fit the packet was met; the chunks before it were returned.</summary>
    public bool Malformed { get; private set; }

    /// <summary>Checks the header's length and the CRC32c; false means the packet must be dropped unread.</summary>
    public static bool TryOpen(ReadOnlySpan<byte> packet, out SctpPacketReader reader)
    {
        reader = default;
        if (packet.Length < HeaderLength + 4 || !SctpChecksum.IsValid(packet))
        {
            return false;
        }

        reader = new SctpPacketReader(packet);
        return true;
    }

    public bool TryReadChunk(out SctpChunk chunk)
    {
        chunk = default;
        if (_offset >= _packet.Length || Malformed)
        {
            return false;
        }

        ReadOnlySpan<byte> rest = _packet[_offset..];
        int length = rest.Length >= 4 ? BinaryPrimitives.ReadUInt16BigEndian(rest[2..]) : 0;
        if (length < 4 || length > rest.Length)
        {
            Malformed = true;
            return false;
        }

        chunk = new SctpChunk(rest[0], rest[1], rest[4..length]);
        _offset += (length + 3) & ~3;
        return true;
    }
}
