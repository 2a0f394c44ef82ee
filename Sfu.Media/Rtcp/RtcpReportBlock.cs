using System.Buffers.Binary;

namespace Sfu.Media.Rtcp;

/// <summary>One reception report block of an SR or RR (RFC 3550 section 6.4.1), 24 bytes on the wire.</summary>
public readonly record struct RtcpReportBlock(
    uint Ssrc,
    byte FractionLost,
    int CumulativeLost,
    uint ExtendedHighestSequenceNumber,
    uint Jitter,
    uint LastSenderReport,
    uint DelaySinceLastSenderReport)
{
    public const int Length = 24;

    // Cumulative loss is a signed 24-bit field; duplicates can make it negative.
    private const int MaxCumulativeLost = 0x7FFFFF;
    private const int MinCumulativeLost = -0x800000;

    public static RtcpReportBlock Read(ReadOnlySpan<byte> source)
    {
        int lost = (source[5] << 16) | (source[6] << 8) | source[7];
        if ((lost & 0x800000) != 0)
        {
            lost |= unchecked((int)0xFF000000);
        }

        return new RtcpReportBlock(
            BinaryPrimitives.ReadUInt32BigEndian(source),
            source[4],
            lost,
            BinaryPrimitives.ReadUInt32BigEndian(source[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[12..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[16..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[20..]));
    }

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, Ssrc);
        destination[4] = FractionLost;
        int lost = Math.Clamp(CumulativeLost, MinCumulativeLost, MaxCumulativeLost);
        destination[5] = (byte)(lost >> 16);
        destination[6] = (byte)(lost >> 8);
        destination[7] = (byte)lost;
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], ExtendedHighestSequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], Jitter);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], LastSenderReport);
        BinaryPrimitives.WriteUInt32BigEndian(destination[20..], DelaySinceLastSenderReport);
    }

    /// <summary>Writes up to 31 blocks back to back; false when they do not fit or are too many for a count field.</summary>
    internal static bool TryWriteAll(Span<byte> destination, ReadOnlySpan<RtcpReportBlock> blocks)
    {
        if (blocks.Length > 31 || destination.Length < blocks.Length * Length)
        {
            return false;
        }

        for (int i = 0; i < blocks.Length; i++)
        {
            blocks[i].Write(destination[(i * Length)..]);
        }

        return true;
    }
}
