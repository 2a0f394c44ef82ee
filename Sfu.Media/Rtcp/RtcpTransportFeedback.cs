using System.Buffers.Binary;

namespace Sfu.Media.Rtcp;

/// <summary>
/// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 section
/// 3.1): RTPFB FMT 15. Parsing walks every status chunk and checks that the receive deltas fit, and counts
/// the packets reported received; <see cref="GetPackets"/> then walks each packet's status and arrival delta.
/// </summary>
public readonly ref partial struct RtcpTransportFeedback
{
    private const int FixedFciLength = 8;

    // Kept for the packet enumerator (RtcpTransportFeedbackPackets.cs): the FCI and where its receive deltas start.
    private readonly ReadOnlySpan<byte> _fci;
    private readonly int _deltasOffset;

    private RtcpTransportFeedback(uint senderSsrc, uint mediaSsrc, ReadOnlySpan<byte> fci, int receivedCount, int deltasOffset)
    {
        _fci = fci;
        _deltasOffset = deltasOffset;
        SenderSsrc = senderSsrc;
        MediaSsrc = mediaSsrc;
        BaseSequenceNumber = BinaryPrimitives.ReadUInt16BigEndian(fci);
        PacketStatusCount = BinaryPrimitives.ReadUInt16BigEndian(fci[2..]);
        int reference = (fci[4] << 16) | (fci[5] << 8) | fci[6];
        ReferenceTime = (reference & 0x800000) != 0 ? reference | unchecked((int)0xFF000000) : reference;
        FeedbackPacketCount = fci[7];
        ReceivedCount = receivedCount;
    }

    public uint SenderSsrc { get; }

    public uint MediaSsrc { get; }

    /// <summary>Transport-wide sequence number of the first packet reported on.</summary>
    public ushort BaseSequenceNumber { get; }

    public ushort PacketStatusCount { get; }

    /// <summary>Signed 24-bit reference time in multiples of 64 ms.</summary>
    public int ReferenceTime { get; }

    /// <summary>Wraps at 256; lets the sender notice lost feedback.</summary>
    public byte FeedbackPacketCount { get; }

    /// <summary>Packets reported received (with a small or large delta).</summary>
    public int ReceivedCount { get; }

    public static bool TryParse(ReadOnlySpan<byte> packet, out RtcpTransportFeedback feedback)
    {
        feedback = default;
        if (!RtcpFeedback.TryRead(packet, RtcpPacketType.TransportFeedback, RtcpPacketType.FmtTransportWideCc, out uint sender, out uint media, out ReadOnlySpan<byte> fci)
            || fci.Length < FixedFciLength)
        {
            return false;
        }

        int remaining = BinaryPrimitives.ReadUInt16BigEndian(fci[2..]);
        int offset = FixedFciLength;
        int received = 0;
        int deltaBytes = 0;
        while (remaining > 0)
        {
            if (fci.Length - offset < 2)
            {
                return false;
            }

            int chunk = BinaryPrimitives.ReadUInt16BigEndian(fci[offset..]);
            offset += 2;
            if ((chunk & 0x8000) == 0)
            {
                // Run length chunk: one 2-bit symbol repeated.
                int symbol = (chunk >> 13) & 0x03;
                int run = Math.Min(chunk & 0x1FFF, remaining);
                if (symbol == 3 || run == 0)
                {
                    return false;
                }

                if (symbol != 0)
                {
                    received += run;
                    deltaBytes += run * symbol;
                }

                remaining -= run;
            }
            else
            {
                // Status vector chunk: 14 one-bit or 7 two-bit symbols.
                bool twoBit = (chunk & 0x4000) != 0;
                int symbols = Math.Min(twoBit ? 7 : 14, remaining);
                for (int s = 0; s < symbols; s++)
                {
                    int symbol = twoBit ? (chunk >> (12 - (2 * s))) & 0x03 : (chunk >> (13 - s)) & 0x01;
                    if (symbol == 3)
                    {
                        return false;
                    }

                    if (symbol != 0)
                    {
                        received++;
                        deltaBytes += symbol;
                    }
                }

                remaining -= symbols;
            }
        }

        if (fci.Length - offset < deltaBytes)
        {
            return false;
        }

        feedback = new RtcpTransportFeedback(sender, media, fci, received, offset);
        return true;
    }
}
