using System.Buffers.Binary;

namespace Sfu.Media.Rtcp;

/// <summary>BYE (RFC 3550 section 6.6): the sources leaving, and an optional reason.</summary>
public readonly ref struct RtcpBye
{
    private readonly ReadOnlySpan<byte> _body;

    private RtcpBye(ReadOnlySpan<byte> body, int sourceCount, ReadOnlySpan<byte> reason)
    {
        _body = body;
        SourceCount = sourceCount;
        Reason = reason;
    }

    public int SourceCount { get; }

    /// <summary>UTF-8 reason for leaving; empty when none was given.</summary>
    public ReadOnlySpan<byte> Reason { get; }

    public uint GetSsrc(int index) => BinaryPrimitives.ReadUInt32BigEndian(_body[(index * 4)..]);

    public static bool TryParse(ReadOnlySpan<byte> packet, out RtcpBye bye)
    {
        bye = default;
        if (!RtcpHeader.TryGetBody(packet, RtcpPacketType.Bye, out RtcpHeader header, out ReadOnlySpan<byte> body)
            || body.Length < header.Count * 4)
        {
            return false;
        }

        ReadOnlySpan<byte> reason = default;
        int reasonOffset = header.Count * 4;
        if (body.Length > reasonOffset)
        {
            int length = body[reasonOffset];
            if (reasonOffset + 1 + length > body.Length)
            {
                return false;
            }

            reason = body.Slice(reasonOffset + 1, length);
        }

        bye = new RtcpBye(body, header.Count, reason);
        return true;
    }

    public static bool TryWrite(Span<byte> destination, ReadOnlySpan<uint> ssrcs, ReadOnlySpan<byte> reason, out int written)
    {
        int reasonBytes = reason.IsEmpty ? 0 : (1 + reason.Length + 3) & ~3;
        written = RtcpHeader.Length + (ssrcs.Length * 4) + reasonBytes;
        if (ssrcs.Length > 31 || reason.Length > 255 || destination.Length < written)
        {
            written = 0;
            return false;
        }

        RtcpHeader.Write(destination, ssrcs.Length, RtcpPacketType.Bye, written);
        for (int i = 0; i < ssrcs.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[(4 + (i * 4))..], ssrcs[i]);
        }

        if (reasonBytes > 0)
        {
            Span<byte> r = destination[(4 + (ssrcs.Length * 4))..written];
            r.Clear();
            r[0] = (byte)reason.Length;
            reason.CopyTo(r[1..]);
        }

        return true;
    }
}
