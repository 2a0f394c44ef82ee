using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;

namespace Sfu.Media.Stun;

/// <summary>
/// A validated, zero-allocation view over one STUN message in a datagram. <see cref="TryParse"/> walks the
/// attributes once and remembers where the ones ICE needs are, so later lookups cost nothing. Only the
/// structure is checked here; MESSAGE-INTEGRITY and FINGERPRINT are checked on request, because the caller
/// must first pick the key from USERNAME.
/// </summary>
public readonly ref struct StunMessageReader
{
    private const int NotPresent = -1;

    private readonly ReadOnlySpan<byte> _message;

    // Offsets of attribute headers within _message (NotPresent when absent). When an attribute
    // occurs twice the first one wins, as RFC 8489 section 14 asks.
    private readonly int _username;
    private readonly int _priority;
    private readonly int _useCandidate;
    private readonly int _iceControlling;
    private readonly int _iceControlled;
    private readonly int _xorMappedAddress;
    private readonly int _errorCode;
    private readonly int _messageIntegrity;
    private readonly int _fingerprint;

    private StunMessageReader(ReadOnlySpan<byte> message, Offsets o)
    {
        _message = message;
        _username = o.Username;
        _priority = o.Priority;
        _useCandidate = o.UseCandidate;
        _iceControlling = o.IceControlling;
        _iceControlled = o.IceControlled;
        _xorMappedAddress = o.XorMappedAddress;
        _errorCode = o.ErrorCode;
        _messageIntegrity = o.MessageIntegrity;
        _fingerprint = o.Fingerprint;
        UnknownComprehensionRequired = o.UnknownComprehensionRequired;
    }

    /// <summary>The 14-bit type (method and class).</summary>
    public ushort MessageType => BinaryPrimitives.ReadUInt16BigEndian(_message);

    public StunClass Class => StunMessageType.GetClass(MessageType);

    public StunMethod Method => StunMessageType.GetMethod(MessageType);

    public ReadOnlySpan<byte> TransactionId => _message.Slice(8, StunConstants.TransactionIdLength);

    /// <summary>The whole message (header included).</summary>
    public ReadOnlySpan<byte> Message => _message;

    public bool HasMessageIntegrity => _messageIntegrity != NotPresent;

    public bool HasFingerprint => _fingerprint != NotPresent;

    public bool UseCandidate => _useCandidate != NotPresent;

    /// <summary>
    /// The first comprehension-required attribute (type below 0x8000) this reader does not know, or 0.
    /// A server answers such a request with 420 (RFC 8489 section 6.3.1).
    /// </summary>
    public ushort UnknownComprehensionRequired { get; }

    /// <summary>
    /// Validates the header (leading zero bits, magic cookie, length matching the datagram and a multiple of 4)
    /// and the attribute layout. Never throws; malformed input returns false.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out StunMessageReader message)
    {
        message = default;
        if (!IsStunHeader(datagram))
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        if ((length & 3) != 0 || StunConstants.HeaderLength + length != datagram.Length)
        {
            return false;
        }

        var o = new Offsets();
        int offset = StunConstants.HeaderLength;
        while (offset < datagram.Length)
        {
            if (datagram.Length - offset < 4 || o.Fingerprint != NotPresent)
            {
                // A truncated header, or anything after FINGERPRINT (which must be last).
                return false;
            }

            ushort type = BinaryPrimitives.ReadUInt16BigEndian(datagram[offset..]);
            int valueLength = BinaryPrimitives.ReadUInt16BigEndian(datagram[(offset + 2)..]);
            int padded = (valueLength + 3) & ~3;
            if (padded > datagram.Length - offset - 4)
            {
                return false;
            }

            // After MESSAGE-INTEGRITY only FINGERPRINT counts; the rest is ignored (RFC 8489 section 14.5).
            bool afterIntegrity = o.MessageIntegrity != NotPresent;
            if (!afterIntegrity || type == (ushort)StunAttributeType.Fingerprint)
            {
                if (!o.Record(type, offset, valueLength))
                {
                    return false;
                }
            }

            offset += 4 + padded;
        }

        message = new StunMessageReader(datagram, o);
        return true;
    }

    /// <summary>
    /// A cheap first-byte-and-cookie check for demultiplexing (RFC 7983): true when the datagram looks like STUN.
    /// </summary>
    public static bool IsStunHeader(ReadOnlySpan<byte> datagram) =>
        datagram.Length >= StunConstants.HeaderLength
        && (datagram[0] & 0xC0) == 0
        && BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]) == StunConstants.MagicCookie;

    /// <summary>USERNAME as raw UTF-8 bytes (no decoding, no allocation).</summary>
    public bool TryGetUsername(out ReadOnlySpan<byte> username)
    {
        username = Value(_username);
        return _username != NotPresent;
    }

    public bool TryGetPriority(out uint priority)
    {
        priority = _priority == NotPresent ? 0 : BinaryPrimitives.ReadUInt32BigEndian(Value(_priority));
        return _priority != NotPresent;
    }

    public bool TryGetIceControlling(out ulong tieBreaker)
    {
        tieBreaker = _iceControlling == NotPresent ? 0 : BinaryPrimitives.ReadUInt64BigEndian(Value(_iceControlling));
        return _iceControlling != NotPresent;
    }

    public bool TryGetIceControlled(out ulong tieBreaker)
    {
        tieBreaker = _iceControlled == NotPresent ? 0 : BinaryPrimitives.ReadUInt64BigEndian(Value(_iceControlled));
        return _iceControlled != NotPresent;
    }

    /// <summary>ERROR-CODE as a number (class * 100 + number) and its UTF-8 reason phrase.</summary>
    public bool TryGetErrorCode(out int code, out ReadOnlySpan<byte> reason)
    {
        code = 0;
        reason = default;
        if (_errorCode == NotPresent)
        {
            return false;
        }

        ReadOnlySpan<byte> v = Value(_errorCode);
        code = ((v[2] & 0x07) * 100) + v[3];
        reason = v[4..];
        return true;
    }

    /// <summary>
    /// XOR-MAPPED-ADDRESS decoded into <paramref name="address"/> (4 or 16 bytes written, see
    /// <paramref name="addressLength"/>) without allocating.
    /// </summary>
    public bool TryGetXorMappedAddress(Span<byte> address, out int addressLength, out int port)
    {
        addressLength = 0;
        port = 0;
        if (_xorMappedAddress == NotPresent)
        {
            return false;
        }

        return TryDecodeXorAddress(Value(_xorMappedAddress), address, out addressLength, out port);
    }

    /// <summary>
    /// The value of the first attribute of <paramref name="type"/> before MESSAGE-INTEGRITY (what integrity covers), found
    /// by walking the message: for attributes the reader does not index, such as TURN's (RFC 8656 section 18).
    /// </summary>
    public bool TryGetAttribute(StunAttributeType type, out ReadOnlySpan<byte> value)
    {
        foreach (StunAttribute attribute in GetAttributes())
        {
            if (attribute.Type == (ushort)StunAttributeType.MessageIntegrity)
            {
                break;
            }

            if (attribute.Type == (ushort)type)
            {
                value = attribute.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <summary>
    /// Any XOR-encoded address attribute (XOR-MAPPED-ADDRESS, TURN's XOR-RELAYED-ADDRESS and XOR-PEER-ADDRESS) as an
    /// <see cref="IPEndPoint"/>; false when absent or of an impossible size. Allocates, meant for clients.
    /// </summary>
    public bool TryGetXorAddress(StunAttributeType type, out IPEndPoint? endPoint)
    {
        endPoint = null;
        Span<byte> address = stackalloc byte[16];
        if (!TryGetAttribute(type, out ReadOnlySpan<byte> value) || !TryDecodeXorAddress(value, address, out int length, out int port))
        {
            return false;
        }

        endPoint = new IPEndPoint(new IPAddress(address[..length]), port);
        return true;
    }

    /// <summary>A four-byte attribute value (LIFETIME, CHANNEL-NUMBER's first half...); false when absent or of another size.</summary>
    public bool TryGetUInt32(StunAttributeType type, out uint value)
    {
        value = 0;
        if (!TryGetAttribute(type, out ReadOnlySpan<byte> raw) || raw.Length != 4)
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt32BigEndian(raw);
        return true;
    }

    private bool TryDecodeXorAddress(ReadOnlySpan<byte> v, Span<byte> address, out int addressLength, out int port)
    {
        addressLength = 0;
        port = 0;
        int length = (v.Length >= 2 ? v[1] : 0, v.Length) switch { (1, 8) => 4, (2, 20) => 16, _ => 0 };
        if (length == 0 || address.Length < length)
        {
            return false;
        }

        port = BinaryPrimitives.ReadUInt16BigEndian(v[2..]) ^ (int)(StunConstants.MagicCookie >> 16);
        // The address is XORed with the cookie followed (for IPv6) by the transaction id: bytes 4..19 of the header.
        ReadOnlySpan<byte> mask = _message.Slice(4, 16);
        for (int i = 0; i < length; i++)
        {
            address[i] = (byte)(v[4 + i] ^ mask[i]);
        }

        addressLength = length;
        return true;
    }

    /// <summary>XOR-MAPPED-ADDRESS as an <see cref="IPEndPoint"/>; allocates, meant for clients and tests.</summary>
    public bool TryGetXorMappedAddress(out IPEndPoint? endPoint) => TryGetXorAddress(StunAttributeType.XorMappedAddress, out endPoint);

    /// <summary>
    /// Checks MESSAGE-INTEGRITY: HMAC-SHA1, keyed with <paramref name="key"/> (for ICE's short-term
    /// credentials, the password's UTF-8 bytes), over the message up to the attribute, with the header length
    /// rewritten to end just after MESSAGE-INTEGRITY. Constant-time comparison.
    /// </summary>
    public bool VerifyMessageIntegrity(ReadOnlySpan<byte> key)
    {
        if (_messageIntegrity == NotPresent)
        {
            return false;
        }

        int covered = _messageIntegrity;
        byte[]? rented = null;
        Span<byte> copy = covered <= 1024 ? stackalloc byte[1024] : (rented = ArrayPool<byte>.Shared.Rent(covered));
        copy = copy[..covered];
        _message[..covered].CopyTo(copy);
        // The length must read as if MESSAGE-INTEGRITY were the last attribute.
        BinaryPrimitives.WriteUInt16BigEndian(copy[2..], (ushort)(covered + 4 + StunConstants.MessageIntegrityLength - StunConstants.HeaderLength));

        Span<byte> mac = stackalloc byte[StunConstants.MessageIntegrityLength];
        HMACSHA1.HashData(key, copy, mac);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return CryptographicOperations.FixedTimeEquals(mac, Value(_messageIntegrity));
    }

    /// <summary>Checks FINGERPRINT (CRC-32 of everything before it, XOR 0x5354554E). False when absent.</summary>
    public bool VerifyFingerprint()
    {
        if (_fingerprint == NotPresent)
        {
            return false;
        }

        // FINGERPRINT is known to be last, so the header length already covers it.
        uint expected = Crc32.Compute(_message[.._fingerprint]) ^ StunConstants.FingerprintXor;
        return BinaryPrimitives.ReadUInt32BigEndian(Value(_fingerprint)) == expected;
    }

    /// <summary>Enumerates every attribute in order, including unknown ones.</summary>
    public StunAttributeEnumerator GetAttributes() => new(_message[StunConstants.HeaderLength..]);

    private ReadOnlySpan<byte> Value(int headerOffset)
    {
        if (headerOffset == NotPresent)
        {
            return default;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(_message[(headerOffset + 2)..]);
        return _message.Slice(headerOffset + 4, length);
    }

    private struct Offsets
    {
        public int Username = NotPresent;
        public int Priority = NotPresent;
        public int UseCandidate = NotPresent;
        public int IceControlling = NotPresent;
        public int IceControlled = NotPresent;
        public int XorMappedAddress = NotPresent;
        public int ErrorCode = NotPresent;
        public int MessageIntegrity = NotPresent;
        public int Fingerprint = NotPresent;
        public ushort UnknownComprehensionRequired;

        public Offsets()
        {
        }

        /// <summary>Remembers a known attribute; false when its value has an impossible size.</summary>
        public bool Record(ushort type, int offset, int length)
        {
            switch ((StunAttributeType)type)
            {
                case StunAttributeType.Username:
                    return Set(ref Username, offset, length is > 0 and <= StunConstants.MaxUsernameLength);
                case StunAttributeType.Priority:
                    return Set(ref Priority, offset, length == 4);
                case StunAttributeType.UseCandidate:
                    return Set(ref UseCandidate, offset, length == 0);
                case StunAttributeType.IceControlling:
                    return Set(ref IceControlling, offset, length == 8);
                case StunAttributeType.IceControlled:
                    return Set(ref IceControlled, offset, length == 8);
                case StunAttributeType.XorMappedAddress:
                    return Set(ref XorMappedAddress, offset, length is 8 or 20);
                case StunAttributeType.ErrorCode:
                    return Set(ref ErrorCode, offset, length is >= 4 and <= 4 + 763);
                case StunAttributeType.MessageIntegrity:
                    return Set(ref MessageIntegrity, offset, length == StunConstants.MessageIntegrityLength);
                case StunAttributeType.Fingerprint:
                    return Set(ref Fingerprint, offset, length == 4);
                default:
                    if (type < 0x8000 && UnknownComprehensionRequired == 0 && !IsKnownIgnorable(type))
                    {
                        UnknownComprehensionRequired = type;
                    }

                    return true;
            }
        }

        private static bool Set(ref int slot, int offset, bool sizeIsValid)
        {
            if (!sizeIsValid)
            {
                return false;
            }

            if (slot == NotPresent)
            {
                slot = offset;
            }

            return true;
        }

        // Comprehension-required attributes we understand but do not need to act on.
        private static bool IsKnownIgnorable(ushort type) => (StunAttributeType)type is
            StunAttributeType.MappedAddress or StunAttributeType.UnknownAttributes or StunAttributeType.Realm
            or StunAttributeType.Nonce or StunAttributeType.MessageIntegritySha256;
    }
}

/// <summary>One attribute as it appears on the wire (value without padding).</summary>
public readonly ref struct StunAttribute(ushort type, ReadOnlySpan<byte> value)
{
    public ushort Type { get; } = type;

    public ReadOnlySpan<byte> Value { get; } = value;
}

/// <summary>Walks the attributes of a message that <see cref="StunMessageReader.TryParse"/> already validated.</summary>
public ref struct StunAttributeEnumerator
{
    private readonly ReadOnlySpan<byte> _attributes;
    private int _next;

    internal StunAttributeEnumerator(ReadOnlySpan<byte> attributes)
    {
        _attributes = attributes;
        Current = default;
    }

    public StunAttribute Current { get; private set; }

    public readonly StunAttributeEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_attributes.Length - _next < 4)
        {
            return false;
        }

        ushort type = BinaryPrimitives.ReadUInt16BigEndian(_attributes[_next..]);
        int length = BinaryPrimitives.ReadUInt16BigEndian(_attributes[(_next + 2)..]);
        if (length > _attributes.Length - _next - 4)
        {
            return false;
        }

        Current = new StunAttribute(type, _attributes.Slice(_next + 4, length));
        _next += 4 + ((length + 3) & ~3);
        return true;
    }
}
