using System.Buffers.Binary;

namespace Sfu.Media.Rtcp;

/// <summary>Receiver Report (RFC 3550 section 6.4.2): the reporter's SSRC and its report blocks.</summary>
public readonly ref struct RtcpReceiverReport
{
    private readonly ReadOnlySpan<byte> _body;

    private RtcpReceiverReport(ReadOnlySpan<byte> body, int reportCount)
    {
        _body = body;
        ReportCount = reportCount;
    }

    public uint Ssrc => BinaryPrimitives.ReadUInt32BigEndian(_body);

    public int ReportCount { get; }

    public RtcpReportBlock GetReportBlock(int index) => RtcpReportBlock.Read(_body[(4 + (index * RtcpReportBlock.Length))..]);

    public static bool TryParse(ReadOnlySpan<byte> packet, out RtcpReceiverReport report)
    {
        report = default;
        if (!RtcpHeader.TryGetBody(packet, RtcpPacketType.ReceiverReport, out RtcpHeader header, out ReadOnlySpan<byte> body)
            || body.Length < 4 + (header.Count * RtcpReportBlock.Length))
        {
            return false;
        }

        report = new RtcpReceiverReport(body, header.Count);
        return true;
    }

    /// <summary>An RR; with no blocks it is the empty RR that must open a compound packet with nothing to report.</summary>
    public static bool TryWrite(Span<byte> destination, uint ssrc, ReadOnlySpan<RtcpReportBlock> blocks, out int written)
    {
        written = RtcpHeader.Length + 4 + (blocks.Length * RtcpReportBlock.Length);
        if (destination.Length < written || !RtcpReportBlock.TryWriteAll(destination[(RtcpHeader.Length + 4)..], blocks))
        {
            written = 0;
            return false;
        }

        RtcpHeader.Write(destination, blocks.Length, RtcpPacketType.ReceiverReport, written);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], ssrc);
        return true;
    }
}
