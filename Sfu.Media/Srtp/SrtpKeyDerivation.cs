namespace Sfu.Media.Srtp;

/// <summary>
/// Session keys from a master key (RFC 3711 section 4.3) with the AES-CM PRF and a key
/// derivation rate of zero, which is what DTLS-SRTP uses: the keys are derived once.
/// </summary>
internal static class SrtpKeyDerivation
{
    public const byte RtpEncryption = 0x00;
    public const byte RtpAuthentication = 0x01;
    public const byte RtpSalt = 0x02;
    public const byte RtcpEncryption = 0x03;
    public const byte RtcpAuthentication = 0x04;
    public const byte RtcpSalt = 0x05;

    /// <summary>
    /// Writes the session key for <paramref name="label"/> into <paramref name="output"/>
    /// (its length is the key length wanted). <paramref name="prf"/> is AES-CM under the master key.
    /// </summary>
    public static void Derive(AesCounterMode prf, ReadOnlySpan<byte> masterSalt, byte label, Span<byte> output)
    {
        // x = (label || index DIV kdr) XOR master_salt, with index DIV kdr = 0. The salt is
        // 112 bits; GCM's 96-bit master salt is padded with zeros on the right (RFC 7714
        // section 11, as libsrtp does), which puts the label in byte 7 either way.
        Span<byte> counter = stackalloc byte[16];
        counter.Clear();
        masterSalt.CopyTo(counter);
        counter[7] ^= label;

        output.Clear();
        prf.Transform(counter, output);
    }
}

/// <summary>The six session keys of one context (RFC 3711 section 4.3.2).</summary>
internal sealed class SrtpSessionKeys
{
    public SrtpSessionKeys(byte[] rtpKey, byte[] rtpAuthKey, byte[] rtpSalt, byte[] rtcpKey, byte[] rtcpAuthKey, byte[] rtcpSalt)
    {
        RtpKey = rtpKey;
        RtpAuthKey = rtpAuthKey;
        RtpSalt = rtpSalt;
        RtcpKey = rtcpKey;
        RtcpAuthKey = rtcpAuthKey;
        RtcpSalt = rtcpSalt;
    }

    public byte[] RtpKey { get; }
    public byte[] RtpAuthKey { get; }
    public byte[] RtpSalt { get; }
    public byte[] RtcpKey { get; }
    public byte[] RtcpAuthKey { get; }
    public byte[] RtcpSalt { get; }

    /// <summary>AEAD profiles authenticate with the cipher, so they carry no HMAC key.</summary>
    public static SrtpSessionKeys Derive(SrtpMasterKey master)
    {
        SrtpProfile profile = master.Profile;
        int keyLength = profile.KeyLength();
        int saltLength = profile.SaltLength();
        int authLength = profile.IsAead() ? 0 : 20;

        using var prf = new AesCounterMode(master.Key);
        byte[] Make(byte label, int length)
        {
            var key = new byte[length];
            SrtpKeyDerivation.Derive(prf, master.Salt, label, key);
            return key;
        }

        return new SrtpSessionKeys(
            Make(SrtpKeyDerivation.RtpEncryption, keyLength),
            Make(SrtpKeyDerivation.RtpAuthentication, authLength),
            Make(SrtpKeyDerivation.RtpSalt, saltLength),
            Make(SrtpKeyDerivation.RtcpEncryption, keyLength),
            Make(SrtpKeyDerivation.RtcpAuthentication, authLength),
            Make(SrtpKeyDerivation.RtcpSalt, saltLength));
    }
}
