using System.Buffers.Binary;

namespace Sfu.Media.Rtcp;

/// <summary>RTCP packet types (RFC 3550 section 12.1, RFC 4585 section 6.1, RFC 3611).</summary>
public static class RtcpPacketType
{
    public const byte SenderReport = 200;
    public const byte ReceiverReport = 201;
    public const byte SourceDescription = 202;
    public const byte Bye = 203;
    public const byte App = 204;
    public const byte TransportFeedback = 205; // RTPFB
    public const byte PayloadFeedback = 206;   // PSFB
    public const byte ExtendedReport = 207;

    /// <summary>RTPFB FMT values (RFC 4585, draft-holmer-rmcat-transport-wide-cc-extensions).</summary>
    public const int FmtGenericNack = 1;
    public const int FmtTransportWideCc = 15;

    /// <summary>PSFB FMT values (RFC 4585, RFC 5104).</summary>
    public const int FmtPli = 1;
    public const int FmtFir = 4;
    public const int FmtApplicationLayer = 15;
}

/// <summary>
/// The 4-byte header every RTCP packet starts with: version 2, padding flag, a 5-bit count (RC, SC or FMT),
/// the packet type, and the length in 32-bit words minus one.
/// </summary>
public readonly struct RtcpHeader
{
    public const int Length = 4;

    private RtcpHeader(int count, byte packetType, int packetLength, int paddingLength)
    {
        Count = count;
        PacketType = packetType;
        PacketLength = packetLength;
        PaddingLength = paddingLength;
    }

    /// <summary>Reception report count, source count, or feedback message type (FMT), by packet type.</summary>
    public int Count { get; }

    public byte PacketType { get; }

    /// <summary>Length of the whole packet in bytes, header and padding included.</summary>
    public int PacketLength { get; }

    public int PaddingLength { get; }

    /// <summary>Reads and checks the header against <paramref name="data"/>; false for anything malformed.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out RtcpHeader header)
    {
        header = default;
        if (data.Length < Length || (data[0] >> 6) != 2)
        {
            return false;
        }

        int packetLength = (BinaryPrimitives.ReadUInt16BigEndian(data[2..]) + 1) * 4;
        if (packetLength > data.Length)
        {
            return false;
        }

        int padding = 0;
        if ((data[0] & 0x20) != 0)
        {
            padding = data[packetLength - 1];
            if (padding == 0 || padding > packetLength - Length)
            {
                return false;
            }
        }

        header = new RtcpHeader(data[0] & 0x1F, data[1], packetLength, padding);
        return true;
    }

    /// <summary>Writes a header without padding for a packet of <paramref name="packetLength"/> bytes (a multiple of 4).</summary>
    public static void Write(Span<byte> destination, int count, byte packetType, int packetLength)
    {
        destination[0] = (byte)(0x80 | (count & 0x1F));
        destination[1] = packetType;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)((packetLength / 4) - 1));
    }

    /// <summary>
    /// Validates a single packet of the expected type and returns its content without header and padding.
    /// Every packet parser starts here.
    /// </summary>
    internal static bool TryGetBody(ReadOnlySpan<byte> packet, byte packetType, out RtcpHeader header, out ReadOnlySpan<byte> body)
    {
        body = default;
        if (!TryRead(packet, out header) || header.PacketType != packetType)
        {
            return false;
        }

        body = packet[Length..(header.PacketLength - header.PaddingLength)];
        return true;
    }
}

/// <summary>
/// Walks a compound RTCP packet (RFC 3550 section 6.1) one packet at a time, without allocating. Stops at the
/// first malformed packet and says so in <see cref="IsMalformed"/>; everything yielded before is sound.
/// </summary>
public ref struct RtcpCompoundReader
{
    private readonly ReadOnlySpan<byte> _compound;
    private int _offset;

    public RtcpCompoundReader(ReadOnlySpan<byte> compound)
    {
        _compound = compound;
        _offset = 0;
        IsMalformed = false;
    }

    public bool IsMalformed { get; private set; }

    /// <summary>The next packet (header included); false at the end or on malformed input.</summary>
    public bool TryReadNext(out RtcpHeader header, out ReadOnlySpan<byte> packet)
    {
        packet = default;
        header = default;
        if (IsMalformed || _offset >= _compound.Length)
        {
            return false;
        }

        ReadOnlySpan<byte> rest = _compound[_offset..];
        // Only the last packet of a compound may be padded (RFC 3550 section 6.4.1).
        if (!RtcpHeader.TryRead(rest, out header) || (header.PaddingLength > 0 && header.PacketLength != rest.Length))
        {
            IsMalformed = true;
            header = default;
            return false;
        }

        packet = rest[..header.PacketLength];
        _offset += header.PacketLength;
        return true;
    }

    /// <summary>True when every packet in <paramref name="compound"/> has a sound header and the lengths add up.</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> compound)
    {
        var reader = new RtcpCompoundReader(compound);
        int packets = 0;
        while (reader.TryReadNext(out _, out _))
        {
            packets++;
        }

        return packets > 0 && !reader.IsMalformed;
    }
}
