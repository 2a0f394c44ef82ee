using System.Buffers.Binary;

namespace Sfu.Media.Rtp;

/// <summary>
/// A validated view over one RTP packet (RFC 3550 section 5.1) in a caller's buffer. Reading costs nothing
/// beyond <see cref="TryParse"/>; the setters rewrite the fields an SFU changes per consumer, in place.
/// </summary>
public readonly ref struct RtpPacket
{
    public const int FixedHeaderLength = 12;

    // RFC 8285: one-byte elements are marked by 0xBEDE, two-byte elements by 0x100 plus 4 "appbits".
    public const ushort OneByteExtensionProfile = 0xBEDE;
    public const ushort TwoByteExtensionProfile = 0x1000;

    private readonly Span<byte> _packet;
    private readonly int _extensionOffset; // start of the extension header (profile), or -1
    private readonly int _headerLength;     // fixed header + CSRCs + extension
    private readonly int _paddingLength;

    private RtpPacket(Span<byte> packet, int extensionOffset, int headerLength, int paddingLength)
    {
        _packet = packet;
        _extensionOffset = extensionOffset;
        _headerLength = headerLength;
        _paddingLength = paddingLength;
    }

    public Span<byte> Packet => _packet;

    public int Version => _packet[0] >> 6;

    public bool HasPadding => (_packet[0] & 0x20) != 0;

    public bool HasExtension => (_packet[0] & 0x10) != 0;

    public int CsrcCount => _packet[0] & 0x0F;

    public bool Marker
    {
        get => (_packet[1] & 0x80) != 0;
        set => _packet[1] = (byte)((_packet[1] & 0x7F) | (value ? 0x80 : 0));
    }

    public byte PayloadType
    {
        get => (byte)(_packet[1] & 0x7F);
        set => _packet[1] = (byte)((_packet[1] & 0x80) | (value & 0x7F));
    }

    public ushort SequenceNumber
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_packet[2..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_packet[2..], value);
    }

    public uint Timestamp
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_packet[4..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_packet[4..], value);
    }

    public uint Ssrc
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_packet[8..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_packet[8..], value);
    }

    public int HeaderLength => _headerLength;

    public int PaddingLength => _paddingLength;

    /// <summary>The payload without header and padding.</summary>
    public Span<byte> Payload => _packet[_headerLength..(_packet.Length - _paddingLength)];

    /// <summary>The 16-bit "defined by profile" field of the extension header, or 0 when there is none.</summary>
    public ushort ExtensionProfile => _extensionOffset < 0 ? (ushort)0 : BinaryPrimitives.ReadUInt16BigEndian(_packet[_extensionOffset..]);

    /// <summary>The extension elements (after the 4-byte extension header); empty when there is none.</summary>
    public Span<byte> ExtensionData => _extensionOffset < 0 ? default : _packet[(_extensionOffset + 4).._headerLength];

    public uint GetCsrc(int index) => BinaryPrimitives.ReadUInt32BigEndian(_packet[(FixedHeaderLength + (4 * index))..]);

    /// <summary>
    /// Validates version 2, the CSRC list, the extension length and the padding count against the buffer.
    /// Never throws; malformed input returns false.
    /// </summary>
    public static bool TryParse(Span<byte> packet, out RtpPacket rtp)
    {
        rtp = default;
        if (packet.Length < FixedHeaderLength || (packet[0] >> 6) != 2)
        {
            return false;
        }

        int headerLength = FixedHeaderLength + (4 * (packet[0] & 0x0F));
        int extensionOffset = -1;
        if ((packet[0] & 0x10) != 0)
        {
            if (packet.Length < headerLength + 4)
            {
                return false;
            }

            extensionOffset = headerLength;
            headerLength += 4 + (4 * BinaryPrimitives.ReadUInt16BigEndian(packet[(extensionOffset + 2)..]));
        }

        if (headerLength > packet.Length)
        {
            return false;
        }

        int padding = 0;
        if ((packet[0] & 0x20) != 0)
        {
            padding = packet[^1];
            if (padding == 0 || padding > packet.Length - headerLength)
            {
                return false;
            }
        }

        rtp = new RtpPacket(packet, extensionOffset, headerLength, padding);
        return true;
    }

    /// <summary>
    /// Finds the RFC 8285 element with <paramref name="id"/> in either form. The value span can be
    /// rewritten in place (for example the transport-wide sequence number on egress).
    /// </summary>
    public bool TryGetExtension(int id, out Span<byte> value)
    {
        value = default;
        if (id is <= 0 or > 255 || !TryFindExtension(id, out int idOffset, out int valueOffset, out int length))
        {
            return false;
        }

        _ = idOffset;
        value = _packet.Slice(valueOffset, length);
        return true;
    }

    /// <summary>
    /// Renumbers an element in place, for a subscriber that negotiated another id for the same URI. The new id
    /// must fit the packet's form (1..14 for one-byte elements, 1..255 for two-byte).
    /// </summary>
    public bool TrySetExtensionId(int currentId, int newId)
    {
        bool oneByte = ExtensionProfile == OneByteExtensionProfile;
        if (newId < 1 || newId > (oneByte ? 14 : 255) || currentId is <= 0 or > 255
            || !TryFindExtension(currentId, out int idOffset, out _, out _))
        {
            return false;
        }

        _packet[idOffset] = oneByte ? (byte)((newId << 4) | (_packet[idOffset] & 0x0F)) : (byte)newId;
        return true;
    }

    /// <summary>Walks the elements; returns the offsets of the id byte and value of the first match.</summary>
    private bool TryFindExtension(int id, out int idOffset, out int valueOffset, out int length)
    {
        idOffset = valueOffset = length = 0;
        if (_extensionOffset < 0)
        {
            return false;
        }

        ushort profile = ExtensionProfile;
        bool oneByte = profile == OneByteExtensionProfile;
        if (!oneByte && (profile & 0xFFF0) != TwoByteExtensionProfile)
        {
            return false;
        }

        int position = _extensionOffset + 4;
        int end = _headerLength;
        while (position < end)
        {
            int elementId;
            int elementLength;
            int headerSize;
            if (oneByte)
            {
                elementId = _packet[position] >> 4;
                elementLength = (_packet[position] & 0x0F) + 1;
                headerSize = 1;
                if (elementId == 0)
                {
                    position++; // padding byte
                    continue;
                }

                if (elementId == 15)
                {
                    return false; // reserved: stop processing (RFC 8285 section 4.2)
                }
            }
            else
            {
                elementId = _packet[position];
                if (elementId == 0)
                {
                    position++;
                    continue;
                }

                if (position + 1 >= end)
                {
                    return false;
                }

                elementLength = _packet[position + 1];
                headerSize = 2;
            }

            if (position + headerSize + elementLength > end)
            {
                return false;
            }

            if (elementId == id)
            {
                idOffset = position;
                valueOffset = position + headerSize;
                length = elementLength;
                return true;
            }

            position += headerSize + elementLength;
        }

        return false;
    }
}
