using System.Buffers.Binary;

namespace Sfu.Media.Rtcp;

/// <summary>
/// Receiver Estimated Maximum Bitrate (draft-alvestrand-rmcat-remb): PSFB FMT 15 with "REMB", the bitrate as
/// an 18-bit mantissa and 6-bit exponent, and the SSRCs it applies to.
/// </summary>
public readonly ref struct RtcpRemb
{
    private const int FixedFciLength = 8; // "REMB", SSRC count, exponent and mantissa
    private const int MaxMantissa = (1 << 18) - 1;

    private readonly ReadOnlySpan<byte> _ssrcs;

    private RtcpRemb(uint senderSsrc, ulong bitrate, ReadOnlySpan<byte> ssrcs)
    {
        SenderSsrc = senderSsrc;
        Bitrate = bitrate;
        _ssrcs = ssrcs;
    }

    public uint SenderSsrc { get; }

    /// <summary>Bits per second.</summary>
    public ulong Bitrate { get; }

    public int SsrcCount => _ssrcs.Length / 4;

    public uint GetSsrc(int index) => BinaryPrimitives.ReadUInt32BigEndian(_ssrcs[(index * 4)..]);

    public static bool TryParse(ReadOnlySpan<byte> packet, out RtcpRemb remb)
    {
        remb = default;
        if (!RtcpFeedback.TryRead(packet, RtcpPacketType.PayloadFeedback, RtcpPacketType.FmtApplicationLayer, out uint sender, out _, out ReadOnlySpan<byte> fci)
            || fci.Length < FixedFciLength || !fci[..4].SequenceEqual("REMB"u8))
        {
            return false;
        }

        int count = fci[4];
        if (fci.Length < FixedFciLength + (count * 4))
        {
            return false;
        }

        int exponent = fci[5] >> 2;
        ulong mantissa = (ulong)(((fci[5] & 0x03) << 16) | (fci[6] << 8) | fci[7]);
        // A mantissa shifted past 64 bits means "more than anyone can send": saturate.
        ulong bitrate = mantissa == 0 ? 0 : exponent > BitOperationsLeadingZeros(mantissa) ? ulong.MaxValue : mantissa << exponent;
        remb = new RtcpRemb(sender, bitrate, fci.Slice(FixedFciLength, count * 4));
        return true;
    }

    public static bool TryWrite(Span<byte> destination, uint senderSsrc, ulong bitrate, ReadOnlySpan<uint> ssrcs, out int written)
    {
        written = RtcpFeedback.CommonLength + FixedFciLength + (ssrcs.Length * 4);
        if (ssrcs.Length > 255 || destination.Length < written)
        {
            written = 0;
            return false;
        }

        int exponent = 0;
        while (bitrate >> exponent > MaxMantissa)
        {
            exponent++;
        }

        uint mantissa = (uint)(bitrate >> exponent);
        RtcpFeedback.WriteCommon(destination, RtcpPacketType.PayloadFeedback, RtcpPacketType.FmtApplicationLayer, written, senderSsrc, 0);
        Span<byte> fci = destination[RtcpFeedback.CommonLength..];
        "REMB"u8.CopyTo(fci);
        fci[4] = (byte)ssrcs.Length;
        fci[5] = (byte)((exponent << 2) | (int)(mantissa >> 16));
        fci[6] = (byte)(mantissa >> 8);
        fci[7] = (byte)mantissa;
        for (int i = 0; i < ssrcs.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(fci[(FixedFciLength + (i * 4))..], ssrcs[i]);
        }

        return true;
    }

    private static int BitOperationsLeadingZeros(ulong value) => System.Numerics.BitOperations.LeadingZeroCount(value);
}
