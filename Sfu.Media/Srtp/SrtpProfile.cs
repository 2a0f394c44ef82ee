namespace Sfu.Media.Srtp;

/// <summary>
/// The SRTP protection profiles this server negotiates, numbered as in the DTLS-SRTP
/// use_srtp extension (RFC 5764 section 4.1.2, RFC 7714 section 14.2).
/// </summary>
public enum SrtpProfile : ushort
{
    Aes128CmHmacSha1_80 = 0x0001,
    Aes128CmHmacSha1_32 = 0x0002,
    AeadAes128Gcm = 0x0007,
}

/// <summary>Key, salt and tag sizes of each <see cref="SrtpProfile"/>.</summary>
public static class SrtpProfileExtensions
{
    /// <summary>Master (and session) encryption key length in bytes.</summary>
    public static int KeyLength(this SrtpProfile profile) => profile switch
    {
        SrtpProfile.Aes128CmHmacSha1_80 or SrtpProfile.Aes128CmHmacSha1_32 or SrtpProfile.AeadAes128Gcm => 16,
        _ => throw Unknown(profile),
    };

    /// <summary>Master (and session) salt length: 112 bits for AES-CM, 96 bits for GCM (RFC 7714 section 12).</summary>
    public static int SaltLength(this SrtpProfile profile) => profile switch
    {
        SrtpProfile.Aes128CmHmacSha1_80 or SrtpProfile.Aes128CmHmacSha1_32 => 14,
        SrtpProfile.AeadAes128Gcm => 12,
        _ => throw Unknown(profile),
    };

    /// <summary>Authentication tag appended to each SRTP packet.</summary>
    public static int RtpTagLength(this SrtpProfile profile) => profile switch
    {
        SrtpProfile.Aes128CmHmacSha1_80 => 10,
        SrtpProfile.Aes128CmHmacSha1_32 => 4,
        SrtpProfile.AeadAes128Gcm => 16,
        _ => throw Unknown(profile),
    };

    /// <summary>
    /// Authentication tag appended to each SRTCP packet. The _32 profile still uses an
    /// 80-bit tag for SRTCP (RFC 5764 section 4.1.2).
    /// </summary>
    public static int RtcpTagLength(this SrtpProfile profile) => profile switch
    {
        SrtpProfile.Aes128CmHmacSha1_80 or SrtpProfile.Aes128CmHmacSha1_32 => 10,
        SrtpProfile.AeadAes128Gcm => 16,
        _ => throw Unknown(profile),
    };

    /// <summary>Bytes <c>Protect</c> adds to an RTP packet; the buffer must have this much room.</summary>
    public static int RtpOverhead(this SrtpProfile profile) => profile.RtpTagLength();

    /// <summary>Bytes <c>ProtectRtcp</c> adds: the tag and the 4-byte E flag + SRTCP index.</summary>
    public static int RtcpOverhead(this SrtpProfile profile) => profile.RtcpTagLength() + 4;

    public static bool IsAead(this SrtpProfile profile) => profile == SrtpProfile.AeadAes128Gcm;

    public static bool IsSupported(this SrtpProfile profile) =>
        profile is SrtpProfile.Aes128CmHmacSha1_80 or SrtpProfile.Aes128CmHmacSha1_32 or SrtpProfile.AeadAes128Gcm;

    private static ArgumentOutOfRangeException Unknown(SrtpProfile profile) =>
        new(nameof(profile), profile, "Unsupported SRTP protection profile.");
}
