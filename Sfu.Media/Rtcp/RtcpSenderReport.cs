using System.Buffers.Binary;

namespace Sfu.Media.Rtcp;

/// <summary>Sender Report (RFC 3550 section 6.4.1): sender info, then report blocks.</summary>
public readonly ref struct RtcpSenderReport
{
    private const int SenderInfoLength = 24; // SSRC + NTP (8) + RTP timestamp + packet count + octet count

    private readonly ReadOnlySpan<byte> _body;

    private RtcpSenderReport(ReadOnlySpan<byte> body, int reportCount)
    {
        _body = body;
        ReportCount = reportCount;
    }

    public uint Ssrc => BinaryPrimitives.ReadUInt32BigEndian(_body);

    /// <summary>64-bit NTP time: seconds since 1900 in the high word, fraction in the low word.</summary>
    public ulong NtpTimestamp => BinaryPrimitives.ReadUInt64BigEndian(_body[4..]);

    /// <summary>The middle 32 bits of the NTP time, which receivers echo as LSR.</summary>
    public uint CompactNtp => (uint)(NtpTimestamp >> 16);

    public uint RtpTimestamp => BinaryPrimitives.ReadUInt32BigEndian(_body[12..]);

    public uint PacketCount => BinaryPrimitives.ReadUInt32BigEndian(_body[16..]);

    public uint OctetCount => BinaryPrimitives.ReadUInt32BigEndian(_body[20..]);

    public int ReportCount { get; }

    public RtcpReportBlock GetReportBlock(int index) =>
        RtcpReportBlock.Read(_body[(SenderInfoLength + (index * RtcpReportBlock.Length))..]);

    public static bool TryParse(ReadOnlySpan<byte> packet, out RtcpSenderReport report)
    {
        report = default;
        if (!RtcpHeader.TryGetBody(packet, RtcpPacketType.SenderReport, out RtcpHeader header, out ReadOnlySpan<byte> body)
            || body.Length < SenderInfoLength + (header.Count * RtcpReportBlock.Length))
        {
            return false;
        }

        report = new RtcpSenderReport(body, header.Count);
        return true;
    }

    public static bool TryWrite(
        Span<byte> destination,
        uint ssrc,
        ulong ntpTimestamp,
        uint rtpTimestamp,
        uint packetCount,
        uint octetCount,
        ReadOnlySpan<RtcpReportBlock> blocks,
        out int written)
    {
        written = RtcpHeader.Length + SenderInfoLength + (blocks.Length * RtcpReportBlock.Length);
        if (destination.Length < written || !RtcpReportBlock.TryWriteAll(destination[(RtcpHeader.Length + SenderInfoLength)..], blocks))
        {
            written = 0;
            return false;
        }

        RtcpHeader.Write(destination, blocks.Length, RtcpPacketType.SenderReport, written);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], ssrc);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], ntpTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], rtpTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(destination[20..], packetCount);
        BinaryPrimitives.WriteUInt32BigEndian(destination[24..], octetCount);
        return true;
    }
}
