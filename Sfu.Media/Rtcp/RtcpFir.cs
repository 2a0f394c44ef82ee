using System.Buffers.Binary;

namespace Sfu.Media.Rtcp;

/// <summary>One FIR request: the stream asked for a keyframe and the request's sequence number.</summary>
public readonly record struct RtcpFirEntry(uint Ssrc, byte SequenceNumber);

/// <summary>
/// Full Intra Request (RFC 5104 section 4.3.1): PSFB FMT 4. The media source field is unused (0); the target
/// streams are in the FCI, each with a sequence number the sender increments per new request.
/// </summary>
public readonly ref struct RtcpFir
{
    private const int EntryLength = 8;

    private readonly ReadOnlySpan<byte> _fci;

    private RtcpFir(uint senderSsrc, ReadOnlySpan<byte> fci)
    {
        SenderSsrc = senderSsrc;
        _fci = fci;
    }

    public uint SenderSsrc { get; }

    public int EntryCount => _fci.Length / EntryLength;

    public RtcpFirEntry GetEntry(int index) =>
        new(BinaryPrimitives.ReadUInt32BigEndian(_fci[(index * EntryLength)..]), _fci[(index * EntryLength) + 4]);

    public static bool TryParse(ReadOnlySpan<byte> packet, out RtcpFir fir)
    {
        fir = default;
        if (!RtcpFeedback.TryRead(packet, RtcpPacketType.PayloadFeedback, RtcpPacketType.FmtFir, out uint sender, out _, out ReadOnlySpan<byte> fci)
            || fci.IsEmpty || fci.Length % EntryLength != 0)
        {
            return false;
        }

        fir = new RtcpFir(sender, fci);
        return true;
    }

    public static bool TryWrite(Span<byte> destination, uint senderSsrc, ReadOnlySpan<RtcpFirEntry> entries, out int written)
    {
        written = RtcpFeedback.CommonLength + (entries.Length * EntryLength);
        if (entries.IsEmpty || destination.Length < written)
        {
            written = 0;
            return false;
        }

        RtcpFeedback.WriteCommon(destination, RtcpPacketType.PayloadFeedback, RtcpPacketType.FmtFir, written, senderSsrc, 0);
        for (int i = 0; i < entries.Length; i++)
        {
            Span<byte> e = destination[(RtcpFeedback.CommonLength + (i * EntryLength))..];
            BinaryPrimitives.WriteUInt32BigEndian(e, entries[i].Ssrc);
            e[4] = entries[i].SequenceNumber;
            e[5] = e[6] = e[7] = 0;
        }

        return true;
    }
}
