using System.Buffers.Binary;

namespace Sfu.Media.Rtp;

/// <summary>
/// RTP retransmission payload format (RFC 4588 section 4): a retransmitted packet travels on the repair stream's
/// SSRC and sequence numbers, under the rtx payload type, its payload prefixed with the original sequence number
/// (OSN). Restoring it gives back the packet the sender first sent, so it can be cached and forwarded as that one.
/// </summary>
public static class RtxPacket
{
    private const int OsnLength = 2;

    /// <summary>
    /// Rewrites <paramref name="rtx"/> in place into the original packet: the header (with its extensions) moves over
    /// the OSN, and takes the OSN, the media payload type (keeping the marker) and the media SSRC. False when the
    /// payload is too short to hold an OSN (a padding-only probe, or malformed).
    /// </summary>
    public static bool TryRestore(RtpPacket rtx, int payloadType, uint ssrc, out RtpPacket original)
    {
        original = default;
        if (rtx.Payload.Length < OsnLength)
        {
            return false;
        }

        var packet = rtx.Packet;
        var sequence = BinaryPrimitives.ReadUInt16BigEndian(rtx.Payload);
        packet[..rtx.HeaderLength].CopyTo(packet[OsnLength..]); // overlapping: copied as if through a temporary
        var restored = packet[OsnLength..];
        restored[1] = (byte)((restored[1] & 0x80) | (payloadType & 0x7F));
        BinaryPrimitives.WriteUInt16BigEndian(restored[2..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(restored[8..], ssrc);
        return RtpPacket.TryParse(restored, out original);
    }
}
