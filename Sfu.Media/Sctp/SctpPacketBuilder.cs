using System.Buffers.Binary;

namespace Sfu.Media.Sctp;

/// <summary>
/// Packs chunks into one outgoing packet in a buffer it owns and reuses: <see cref="Begin"/> writes the common
/// header, <see cref="TryAddChunk"/> reserves a padded chunk and returns its value to fill, <see cref="Finish"/>
/// writes the checksum. Nothing is allocated per packet.
/// </summary>
internal sealed class SctpPacketBuilder(int maxPacketSize)
{
    private readonly byte[] _buffer = new byte[maxPacketSize];
    private int _length;

    public bool HasChunks => _length > SctpPacketReader.HeaderLength;

    /// <summary>Room left for a chunk value after its 4-byte header.</summary>
    public int ValueRoom => Math.Max(0, _buffer.Length - _length - 4);

    public void Begin(ushort sourcePort, ushort destinationPort, uint verificationTag)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(4), verificationTag);
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(8), 0);
        _length = SctpPacketReader.HeaderLength;
    }

    /// <summary>Reserves a chunk with a value of <paramref name="valueLength"/> bytes, or returns false if it does not fit.</summary>
    public bool TryAddChunk(SctpChunkType type, byte flags, int valueLength, out Span<byte> value)
    {
        int padded = (4 + valueLength + 3) & ~3;
        if (valueLength > ushort.MaxValue - 4 || _length + padded > _buffer.Length)
        {
            value = default;
            return false;
        }

        Span<byte> chunk = _buffer.AsSpan(_length, padded);
        chunk[0] = (byte)type;
        chunk[1] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(chunk[2..], (ushort)(4 + valueLength));
        chunk[(4 + valueLength)..].Clear();
        value = chunk.Slice(4, valueLength);
        _length += padded;
        return true;
    }

    public ReadOnlySpan<byte> Finish()
    {
        Span<byte> packet = _buffer.AsSpan(0, _length);
        SctpChecksum.Write(packet);
        return packet;
    }
}
