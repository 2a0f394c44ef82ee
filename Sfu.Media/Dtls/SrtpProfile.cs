namespace Sfu.Media.Dtls;

/// <summary>DTLS-SRTP protection profiles (RFC 5764, RFC 7714); values are the IANA ids.</summary>
public enum SrtpProfile
{
    None = 0,
    Aes128CmSha1_80 = 0x0001,
    Aes128CmSha1_32 = 0x0002,
    AeadAes128Gcm = 0x0007,
    AeadAes256Gcm = 0x0008,
}

public static class SrtpProfileInfo
{
    /// <summary>
    /// What the SFU offers, most preferred first: OpenSSL as the DTLS server picks the first of
    /// its own list that the client also offers, so GCM wins whenever the browser has it.
    /// </summary>
    public const string DefaultOpenSslProfiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";

    /// <summary>Master key length in bytes.</summary>
    public static int KeyLength(SrtpProfile profile) => profile switch
    {
        SrtpProfile.Aes128CmSha1_80 or SrtpProfile.Aes128CmSha1_32 or SrtpProfile.AeadAes128Gcm => 16,
        SrtpProfile.AeadAes256Gcm => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(profile), profile, "no SRTP profile"),
    };

    /// <summary>Master salt length in bytes (RFC 3711: 14; RFC 7714 AEAD: 12).</summary>
    public static int SaltLength(SrtpProfile profile) => profile switch
    {
        SrtpProfile.Aes128CmSha1_80 or SrtpProfile.Aes128CmSha1_32 => 14,
        SrtpProfile.AeadAes128Gcm or SrtpProfile.AeadAes256Gcm => 12,
        _ => throw new ArgumentOutOfRangeException(nameof(profile), profile, "no SRTP profile"),
    };

    internal static bool IsKnown(SrtpProfile profile) => profile is
        SrtpProfile.Aes128CmSha1_80 or SrtpProfile.Aes128CmSha1_32 or
        SrtpProfile.AeadAes128Gcm or SrtpProfile.AeadAes256Gcm;
}
