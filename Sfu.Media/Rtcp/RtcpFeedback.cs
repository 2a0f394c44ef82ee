using System.Buffers.Binary;

namespace Sfu.Media.Rtcp;

/// <summary>
/// The common layout of RFC 4585 feedback messages: header (FMT in the count field), packet sender SSRC,
/// media source SSRC, then feedback control information (FCI).
/// </summary>
internal static class RtcpFeedback
{
    public const int CommonLength = RtcpHeader.Length + 8;

    public static bool TryRead(
        ReadOnlySpan<byte> packet, byte packetType, int fmt, out uint senderSsrc, out uint mediaSsrc, out ReadOnlySpan<byte> fci)
    {
        senderSsrc = mediaSsrc = 0;
        fci = default;
        if (!RtcpHeader.TryGetBody(packet, packetType, out RtcpHeader header, out ReadOnlySpan<byte> body)
            || header.Count != fmt || body.Length < 8)
        {
            return false;
        }

        senderSsrc = BinaryPrimitives.ReadUInt32BigEndian(body);
        mediaSsrc = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
        fci = body[8..];
        return true;
    }

    public static void WriteCommon(Span<byte> destination, byte packetType, int fmt, int packetLength, uint senderSsrc, uint mediaSsrc)
    {
        RtcpHeader.Write(destination, fmt, packetType, packetLength);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], senderSsrc);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], mediaSsrc);
    }
}
