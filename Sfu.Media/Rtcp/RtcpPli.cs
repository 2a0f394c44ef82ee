namespace Sfu.Media.Rtcp;

/// <summary>Picture Loss Indication (RFC 4585 section 6.3.1): PSFB FMT 1, no FCI.</summary>
public readonly record struct RtcpPli(uint SenderSsrc, uint MediaSsrc)
{
    public const int Length = RtcpFeedback.CommonLength;

    public static bool TryParse(ReadOnlySpan<byte> packet, out RtcpPli pli)
    {
        bool ok = RtcpFeedback.TryRead(packet, RtcpPacketType.PayloadFeedback, RtcpPacketType.FmtPli, out uint sender, out uint media, out _);
        pli = ok ? new RtcpPli(sender, media) : default;
        return ok;
    }

    public bool TryWrite(Span<byte> destination, out int written)
    {
        written = destination.Length < Length ? 0 : Length;
        if (written == 0)
        {
            return false;
        }

        RtcpFeedback.WriteCommon(destination, RtcpPacketType.PayloadFeedback, RtcpPacketType.FmtPli, Length, SenderSsrc, MediaSsrc);
        return true;
    }
}
