using Sfu.Media.Srtp;
using static Sfu.Tests.Media.Srtp.SrtpTestPackets;

namespace Sfu.Tests.Media.Srtp;

/// <summary>Published vectors: RFC 3711 Appendix B, libsrtp's srtp_driver packets, RFC 7714 sections 16 and 17.</summary>
public class SrtpKnownAnswerTests
{
    private static readonly byte[] Rfc3711MasterKey = Hex("E1F97A0D3E018BE0D64FA32C06DE4139");
    private static readonly byte[] Rfc3711MasterSalt = Hex("0EC675AD498AFEEBB6960B3AABE6");

    private static readonly byte[] Rfc7714Key = Hex("000102030405060708090a0b0c0d0e0f");
    private static readonly byte[] Rfc7714Salt = Hex("517569642070726f2071756f");
    private static readonly byte[] Rfc7714Rtp = Hex(
        "8040f17b8041f8d35501a0b2" +
        "47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573");
    private static readonly byte[] Rfc7714Srtp = Hex(
        "8040f17b8041f8d35501a0b2" +
        "f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833" +
        "899d7f27beb16a9152cf765ee4390cce");
    private static readonly byte[] Rfc7714Rtcp = Hex(
        "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61" +
        "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef");
    private static readonly byte[] Rfc7714Srtcp = Hex(
        "81c8000d4d617273" +
        "63e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded0bb9275b" +
        "c84aa45896cf4d2fc5abf87245d9eade" +
        "800005d4");

    [Test]
    public void KeyDerivation_MatchesRfc3711AppendixB3()
    {
        using var prf = new AesCounterMode(Rfc3711MasterKey);
        var cipherKey = new byte[16];
        var salt = new byte[14];
        var authKey = new byte[20];

        SrtpKeyDerivation.Derive(prf, Rfc3711MasterSalt, SrtpKeyDerivation.RtpEncryption, cipherKey);
        SrtpKeyDerivation.Derive(prf, Rfc3711MasterSalt, SrtpKeyDerivation.RtpSalt, salt);
        SrtpKeyDerivation.Derive(prf, Rfc3711MasterSalt, SrtpKeyDerivation.RtpAuthentication, authKey);

        Assert.That(cipherKey, Is.EqualTo(Hex("C61E7A93744F39EE10734AFE3FF7A087")));
        Assert.That(salt, Is.EqualTo(Hex("30CBBC08863D8C85D49DB34A9AE1")));
        Assert.That(authKey, Is.EqualTo(Hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4")));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void AesCmKeystream_MatchesRfc3711AppendixB2(bool intrinsics)
    {
        // Session key and salt of B.2, SSRC 0 and index 0: IV = salt * 2^16.
        using var cipher = new AesCounterMode(Hex("2B7E151628AED2A6ABF7158809CF4F3C"), intrinsics);
        var keystream = new byte[0xFF02 * 16];
        cipher.Transform(Hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"), keystream);

        Assert.That(keystream.AsSpan(0, 48).ToArray(), Is.EqualTo(Hex(
            "E03EAD0935C95E80E166B16DD92B4EB4" +
            "D23513162B02D0F72A43A2FE4A5F97AB" +
            "41E95B3BB0A2E8DD477901E4FCA894C0")));
        Assert.That(keystream.AsSpan(0xFEFF * 16, 48).ToArray(), Is.EqualTo(Hex(
            "EC8CDF7398607CB0F2D21675EA9EA1E4" +
            "362B7C3C6773516318A077D7FC5073AE" +
            "6A2CC3787889374FBEB4C81B17BA6C44")));
    }

    [Test]
    public void Protect_AesCm80_MatchesLibsrtpDriverVector()
    {
        using var context = new SrtpContext(SrtpProfile.Aes128CmHmacSha1_80, Rfc3711MasterKey, Rfc3711MasterSalt);
        byte[] buffer = WithRoom(Hex("800f1234decafbadcafebabe" + "abababababababababababababababab"));

        Assert.That(context.Protect(buffer, 28, out int length), Is.EqualTo(SrtpStatus.Ok));

        Assert.That(buffer.AsSpan(0, length).ToArray(), Is.EqualTo(Hex(
            "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb")));
    }

    [Test]
    public void ProtectRtcp_AesCm80_SecondPacketMatchesLibsrtpDriverVector()
    {
        // libsrtp numbers its first SRTCP packet 1; RFC 3711 section 3.4 starts at 0, as we do,
        // so our second packet is the one the vector shows.
        using var context = new SrtpContext(SrtpProfile.Aes128CmHmacSha1_80, Rfc3711MasterKey, Rfc3711MasterSalt);
        byte[] plain = Hex("81c8000bcafebabeabababababababababababababababab");
        byte[] buffer = WithRoom(plain);
        Assert.That(context.ProtectRtcp(buffer, plain.Length, out _), Is.EqualTo(SrtpStatus.Ok));
        buffer = WithRoom(plain);

        Assert.That(context.ProtectRtcp(buffer, plain.Length, out int length), Is.EqualTo(SrtpStatus.Ok));

        Assert.That(buffer.AsSpan(0, length).ToArray(), Is.EqualTo(Hex(
            "81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798")));
    }

    [Test]
    public void UnprotectRtcp_AesCm80_OpensLibsrtpDriverVector()
    {
        using var context = new SrtpContext(SrtpProfile.Aes128CmHmacSha1_80, Rfc3711MasterKey, Rfc3711MasterSalt);
        byte[] buffer = Hex("81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798");

        Assert.That(context.UnprotectRtcp(buffer, buffer.Length, out int length), Is.EqualTo(SrtpStatus.Ok));

        Assert.That(buffer.AsSpan(0, length).ToArray(), Is.EqualTo(Hex("81c8000bcafebabeabababababababababababababababab")));
    }

    [Test]
    public void Protect_Gcm_MatchesRfc7714Section16()
    {
        using var context = Rfc7714Context();
        byte[] buffer = WithRoom(Rfc7714Rtp);

        Assert.That(context.Protect(buffer, Rfc7714Rtp.Length, out int length), Is.EqualTo(SrtpStatus.Ok));

        Assert.That(buffer.AsSpan(0, length).ToArray(), Is.EqualTo(Rfc7714Srtp));
    }

    [Test]
    public void Unprotect_Gcm_OpensRfc7714Section16()
    {
        using var context = Rfc7714Context();
        byte[] buffer = (byte[])Rfc7714Srtp.Clone();

        Assert.That(context.Unprotect(buffer, buffer.Length, out int length), Is.EqualTo(SrtpStatus.Ok));

        Assert.That(buffer.AsSpan(0, length).ToArray(), Is.EqualTo(Rfc7714Rtp));
    }

    [Test]
    public void ProtectRtcp_Gcm_MatchesRfc7714Section17([Values] bool intrinsics)
    {
        using var suite = new AeadAesGcmSuite(Rfc7714SessionKeys(), intrinsics);
        byte[] buffer = WithRoom(Rfc7714Rtcp);

        suite.ProtectRtcp(buffer, Rfc7714Rtcp.Length, 0x4d617273, 0x5d4);

        Assert.That(buffer.AsSpan(0, Rfc7714Rtcp.Length + suite.RtcpOverhead).ToArray(), Is.EqualTo(Rfc7714Srtcp));
    }

    [Test]
    public void UnprotectRtcp_Gcm_OpensRfc7714Section17()
    {
        using var context = Rfc7714Context();
        byte[] buffer = (byte[])Rfc7714Srtcp.Clone();

        Assert.That(context.UnprotectRtcp(buffer, buffer.Length, out int length), Is.EqualTo(SrtpStatus.Ok));

        Assert.That(buffer.AsSpan(0, length).ToArray(), Is.EqualTo(Rfc7714Rtcp));
    }

    [Test]
    public void GcmNonces_MatchRfc7714Examples()
    {
        var rtpNonce = new byte[12];
        var rtcpNonce = new byte[12];

        AeadAesGcmSuite.BuildRtpNonce(Rfc7714Salt, 0x5501a0b2, 0xf17b, rtpNonce);
        AeadAesGcmSuite.BuildRtcpNonce(Rfc7714Salt, 0x4d617273, 0x5d4, rtcpNonce);

        Assert.That(rtpNonce, Is.EqualTo(Hex("51753c6580c2726f20718414")));
        Assert.That(rtcpNonce, Is.EqualTo(Hex("517524055203726f207170bb")));
    }

    private static SrtpSessionKeys Rfc7714SessionKeys() =>
        new(Rfc7714Key, [], Rfc7714Salt, Rfc7714Key, [], Rfc7714Salt);

    // RFC 7714's vectors give session keys, so the KDF is bypassed.
    private static SrtpContext Rfc7714Context() => new(SrtpProfile.AeadAes128Gcm, Rfc7714SessionKeys());
}
