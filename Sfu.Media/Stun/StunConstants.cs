namespace Sfu.Media.Stun;

/// <summary>Wire constants of RFC 8489 (STUN) and RFC 8445 (ICE) that more than one type needs.</summary>
public static class StunConstants
{
    public const int HeaderLength = 20;
    public const int TransactionIdLength = 12;
    public const uint MagicCookie = 0x2112A442;

    /// <summary>HMAC-SHA1 output carried by MESSAGE-INTEGRITY.</summary>
    public const int MessageIntegrityLength = 20;

    /// <summary>XORed into the CRC-32 so a FINGERPRINT cannot collide with one another protocol computes.</summary>
    public const uint FingerprintXor = 0x5354554E;

    /// <summary>RFC 8489 limits USERNAME to 513 bytes; longer ones are malformed, not merely unknown.</summary>
    public const int MaxUsernameLength = 513;
}

/// <summary>
/// The STUN methods this project speaks: ICE needs only Binding; the client's TURN relay (RFC 8656 section 17) the rest.
/// </summary>
public enum StunMethod : ushort
{
    Binding = 0x001,
    Allocate = 0x003,
    Refresh = 0x004,
    Send = 0x006,
    Data = 0x007,
    CreatePermission = 0x008,
    ChannelBind = 0x009,
}

public enum StunClass : byte
{
    Request = 0,
    Indication = 1,
    SuccessResponse = 2,
    ErrorResponse = 3,
}

/// <summary>Attribute types this project reads or writes (RFC 8489 section 18.3, RFC 8445 section 16.1, RFC 8656 section 18).</summary>
public enum StunAttributeType : ushort
{
    MappedAddress = 0x0001,
    Username = 0x0006,
    MessageIntegrity = 0x0008,
    ErrorCode = 0x0009,
    UnknownAttributes = 0x000A,
    ChannelNumber = 0x000C,
    Lifetime = 0x000D,
    XorPeerAddress = 0x0012,
    Data = 0x0013,
    Realm = 0x0014,
    Nonce = 0x0015,
    XorRelayedAddress = 0x0016,
    RequestedTransport = 0x0019,
    MessageIntegritySha256 = 0x001C,
    XorMappedAddress = 0x0020,
    Priority = 0x0024,
    UseCandidate = 0x0025,
    Software = 0x8022,
    Fingerprint = 0x8028,
    IceControlled = 0x8029,
    IceControlling = 0x802A,
}

/// <summary>Packs and unpacks the 14-bit message type, whose class bits are interleaved with the method bits.</summary>
public static class StunMessageType
{
    public const ushort BindingRequest = 0x0001;
    public const ushort BindingIndication = 0x0011;
    public const ushort BindingSuccessResponse = 0x0101;
    public const ushort BindingErrorResponse = 0x0111;

    public static ushort Compose(StunMethod method, StunClass messageClass)
    {
        int m = (int)method;
        int c = (int)messageClass;
        return (ushort)((m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7));
    }

    public static StunClass GetClass(ushort type) => (StunClass)(((type >> 4) & 1) | ((type >> 7) & 2));

    public static StunMethod GetMethod(ushort type) =>
        (StunMethod)((type & 0x000F) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0F80));
}
