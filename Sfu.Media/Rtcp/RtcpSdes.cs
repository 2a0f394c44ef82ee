using System.Buffers.Binary;

namespace Sfu.Media.Rtcp;

/// <summary>
/// Source Description (RFC 3550 section 6.5). An SFU needs only CNAME, which ties a participant's streams
/// together; other items are skipped.
/// </summary>
public readonly ref struct RtcpSdes
{
    public const byte CnameItem = 1;

    private readonly ReadOnlySpan<byte> _body;

    private RtcpSdes(ReadOnlySpan<byte> body, int chunkCount)
    {
        _body = body;
        ChunkCount = chunkCount;
    }

    public int ChunkCount { get; }

    /// <summary>Checks that all chunks, and their item lists, fit in the packet.</summary>
    public static bool TryParse(ReadOnlySpan<byte> packet, out RtcpSdes sdes)
    {
        sdes = default;
        if (!RtcpHeader.TryGetBody(packet, RtcpPacketType.SourceDescription, out RtcpHeader header, out ReadOnlySpan<byte> body))
        {
            return false;
        }

        int offset = 0;
        for (int i = 0; i < header.Count; i++)
        {
            if (!TryReadChunk(body, ref offset, out _, out _))
            {
                return false;
            }
        }

        sdes = new RtcpSdes(body, header.Count);
        return true;
    }

    public RtcpSdesChunkEnumerator GetChunks() => new(_body, ChunkCount);

    /// <summary>One SDES packet with a single chunk: <paramref name="ssrc"/> and its CNAME (1 to 255 bytes).</summary>
    public static bool TryWriteCname(Span<byte> destination, uint ssrc, ReadOnlySpan<byte> cname, out int written)
    {
        // SSRC, item type, item length, text, then at least one zero octet ending the list, to a 4-byte boundary.
        written = (RtcpHeader.Length + 4 + 2 + cname.Length + 1 + 3) & ~3;
        if (cname.IsEmpty || cname.Length > 255 || destination.Length < written)
        {
            written = 0;
            return false;
        }

        RtcpHeader.Write(destination, 1, RtcpPacketType.SourceDescription, written);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], ssrc);
        destination[8] = CnameItem;
        destination[9] = (byte)cname.Length;
        cname.CopyTo(destination[10..]);
        destination[(10 + cname.Length)..written].Clear();
        return true;
    }

    /// <summary>Reads one chunk at <paramref name="offset"/> and moves past its terminating null octets.</summary>
    internal static bool TryReadChunk(ReadOnlySpan<byte> body, scoped ref int offset, out uint ssrc, out ReadOnlySpan<byte> cname)
    {
        ssrc = 0;
        cname = default;
        if (body.Length - offset < 4)
        {
            return false;
        }

        ssrc = BinaryPrimitives.ReadUInt32BigEndian(body[offset..]);
        int position = offset + 4;
        while (true)
        {
            if (position >= body.Length)
            {
                return false;
            }

            byte type = body[position];
            if (type == 0)
            {
                // End of the item list: the chunk is padded with nulls to the next 32-bit boundary.
                offset = (position + 4) & ~3;
                return offset <= body.Length;
            }

            if (position + 1 >= body.Length || position + 2 + body[position + 1] > body.Length)
            {
                return false;
            }

            int length = body[position + 1];
            if (type == CnameItem && cname.IsEmpty)
            {
                cname = body.Slice(position + 2, length);
            }

            position += 2 + length;
        }
    }
}

public readonly ref struct RtcpSdesChunk(uint ssrc, ReadOnlySpan<byte> cname)
{
    public uint Ssrc { get; } = ssrc;

    /// <summary>The CNAME item, empty when the chunk has none.</summary>
    public ReadOnlySpan<byte> Cname { get; } = cname;
}

public ref struct RtcpSdesChunkEnumerator
{
    private readonly ReadOnlySpan<byte> _body;
    private readonly int _count;
    private int _index;
    private int _offset;

    internal RtcpSdesChunkEnumerator(ReadOnlySpan<byte> body, int count)
    {
        _body = body;
        _count = count;
        Current = default;
    }

    public RtcpSdesChunk Current { get; private set; }

    public readonly RtcpSdesChunkEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_index >= _count || !RtcpSdes.TryReadChunk(_body, ref _offset, out uint ssrc, out ReadOnlySpan<byte> cname))
        {
            return false;
        }

        _index++;
        Current = new RtcpSdesChunk(ssrc, cname);
        return true;
    }
}
