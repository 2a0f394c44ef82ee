using System.Buffers.Binary;

namespace Sfu.Media.Rtcp;

/// <summary>
/// Generic NACK (RFC 4585 section 6.2.1): RTPFB FMT 1. Each FCI item is a lost packet id (PID) and a bitmask
/// (BLP) of the 16 packets after it that are lost too.
/// </summary>
public readonly ref struct RtcpNack
{
    private const int ItemLength = 4;

    private readonly ReadOnlySpan<byte> _fci;

    private RtcpNack(uint senderSsrc, uint mediaSsrc, ReadOnlySpan<byte> fci)
    {
        SenderSsrc = senderSsrc;
        MediaSsrc = mediaSsrc;
        _fci = fci;
    }

    public uint SenderSsrc { get; }

    public uint MediaSsrc { get; }

    public int ItemCount => _fci.Length / ItemLength;

    /// <summary>Every sequence number the packet reports lost.</summary>
    public int LostCount
    {
        get
        {
            int count = 0;
            for (int i = 0; i < ItemCount; i++)
            {
                count += 1 + System.Numerics.BitOperations.PopCount(GetBitmask(i));
            }

            return count;
        }
    }

    public ushort GetPacketId(int index) => BinaryPrimitives.ReadUInt16BigEndian(_fci[(index * ItemLength)..]);

    public ushort GetBitmask(int index) => BinaryPrimitives.ReadUInt16BigEndian(_fci[((index * ItemLength) + 2)..]);

    public static bool TryParse(ReadOnlySpan<byte> packet, out RtcpNack nack)
    {
        nack = default;
        if (!RtcpFeedback.TryRead(packet, RtcpPacketType.TransportFeedback, RtcpPacketType.FmtGenericNack, out uint sender, out uint media, out ReadOnlySpan<byte> fci)
            || fci.IsEmpty || fci.Length % ItemLength != 0)
        {
            return false;
        }

        nack = new RtcpNack(sender, media, fci);
        return true;
    }

    /// <summary>
    /// Expands the items into sequence numbers, in packet order; returns how many were written (at most
    /// <paramref name="destination"/>'s length).
    /// </summary>
    public int CopyLostSequenceNumbers(Span<ushort> destination)
    {
        int count = 0;
        for (int i = 0; i < ItemCount; i++)
        {
            ushort pid = GetPacketId(i);
            ushort blp = GetBitmask(i);
            if (count == destination.Length)
            {
                return count;
            }

            destination[count++] = pid;
            for (int bit = 0; bit < 16; bit++)
            {
                if ((blp & (1 << bit)) == 0)
                {
                    continue;
                }

                if (count == destination.Length)
                {
                    return count;
                }

                destination[count++] = (ushort)(pid + bit + 1);
            }
        }

        return count;
    }

    /// <summary>
    /// Packs <paramref name="lost"/> (ascending in 16-bit serial order, e.g. 65534, 65535, 0) into as few
    /// PID+BLP items as the order allows.
    /// </summary>
    public static bool TryWrite(Span<byte> destination, uint senderSsrc, uint mediaSsrc, ReadOnlySpan<ushort> lost, out int written)
    {
        written = 0;
        if (lost.IsEmpty)
        {
            return false;
        }

        int length = RtcpFeedback.CommonLength;
        int i = 0;
        while (i < lost.Length)
        {
            if (destination.Length < length + ItemLength)
            {
                return false;
            }

            ushort pid = lost[i++];
            ushort blp = 0;
            while (i < lost.Length)
            {
                int distance = (ushort)(lost[i] - pid);
                if (distance == 0)
                {
                    i++; // duplicate
                    continue;
                }

                if (distance > 16)
                {
                    break;
                }

                blp |= (ushort)(1 << (distance - 1));
                i++;
            }

            BinaryPrimitives.WriteUInt16BigEndian(destination[length..], pid);
            BinaryPrimitives.WriteUInt16BigEndian(destination[(length + 2)..], blp);
            length += ItemLength;
        }

        RtcpFeedback.WriteCommon(destination, RtcpPacketType.TransportFeedback, RtcpPacketType.FmtGenericNack, length, senderSsrc, mediaSsrc);
        written = length;
        return true;
    }
}
