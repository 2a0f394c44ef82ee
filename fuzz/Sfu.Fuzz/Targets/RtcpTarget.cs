using Sfu.Media.Rtcp;

namespace Sfu.Fuzz.Targets;

/// <summary>
/// A decrypted compound RTCP packet as a transport receives it: walked packet by packet, and every packet handed to
/// every packet type's parser (each must refuse what is not its own), with everything a parsed packet exposes read.
/// </summary>
public sealed class RtcpTarget : FuzzTarget
{
    public override void Execute(ReadOnlySpan<byte> input)
    {
        RtcpCompoundReader.IsWellFormed(input);
        var reader = new RtcpCompoundReader(input);
        while (reader.TryReadNext(out var header, out var packet))
        {
            _ = (header.Count, header.PacketType, header.PaddingLength);
            Parse(packet);
        }

        _ = reader.IsMalformed;
    }

    private static void Parse(ReadOnlySpan<byte> packet)
    {
        if (RtcpSenderReport.TryParse(packet, out var sr))
        {
            _ = (sr.Ssrc, sr.CompactNtp, sr.RtpTimestamp, sr.PacketCount, sr.OctetCount);
            for (int i = 0; i < sr.ReportCount; i++)
            {
                sr.GetReportBlock(i);
            }
        }

        if (RtcpReceiverReport.TryParse(packet, out var rr))
        {
            _ = rr.Ssrc;
            for (int i = 0; i < rr.ReportCount; i++)
            {
                rr.GetReportBlock(i);
            }
        }

        if (RtcpSdes.TryParse(packet, out var sdes))
        {
            foreach (var chunk in sdes.GetChunks())
            {
                _ = (chunk.Ssrc, chunk.Cname.Length);
            }
        }

        if (RtcpBye.TryParse(packet, out var bye))
        {
            for (int i = 0; i < bye.SourceCount; i++)
            {
                bye.GetSsrc(i);
            }

            _ = bye.Reason.Length;
        }

        if (RtcpNack.TryParse(packet, out var nack))
        {
            // As large as the subscriber's buffer for the sequence numbers one NACK asks for.
            Span<ushort> lost = stackalloc ushort[256];
            _ = (nack.SenderSsrc, nack.MediaSsrc, nack.LostCount);
            nack.CopyLostSequenceNumbers(lost);
        }

        RtcpPli.TryParse(packet, out _);
        if (RtcpFir.TryParse(packet, out var fir))
        {
            for (int i = 0; i < fir.EntryCount; i++)
            {
                fir.GetEntry(i);
            }
        }

        if (RtcpRemb.TryParse(packet, out var remb))
        {
            _ = (remb.SenderSsrc, remb.Bitrate);
            for (int i = 0; i < remb.SsrcCount; i++)
            {
                remb.GetSsrc(i);
            }
        }

        if (RtcpTransportFeedback.TryParse(packet, out var feedback))
        {
            _ = (feedback.SenderSsrc, feedback.MediaSsrc, feedback.BaseSequenceNumber, feedback.PacketStatusCount,
                feedback.ReferenceTime, feedback.FeedbackPacketCount, feedback.ReceivedCount);
        }
    }
}
