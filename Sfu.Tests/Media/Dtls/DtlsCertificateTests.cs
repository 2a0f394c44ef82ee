using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sfu.Media.Dtls;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Dtls;

[TestFixture]
public sealed class DtlsCertificateTests
{
    [Test]
    public void Generate_FingerprintIsSha256OfDerInSdpForm()
    {
        using DtlsCertificate certificate = DtlsCertificate.Generate();

        byte[] hash = SHA256.HashData(certificate.Der.Span);
        string expected = "sha-256 " + string.Join(':', hash.Select(b => b.ToString("X2")));

        Assert.That(certificate.Fingerprint.ToString(), Is.EqualTo(expected));
        Assert.That(certificate.Fingerprint.ToString(), Does.Match("^sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$"));
    }

    [Test]
    public void Generate_MakesShortLivedEcdsaP256CertificateWithRandomSerial()
    {
        var clock = new ManualClock(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using DtlsCertificate first = DtlsCertificate.Generate(TimeSpan.FromDays(30), clock);
        using DtlsCertificate second = DtlsCertificate.Generate(TimeSpan.FromDays(30), clock);

        using X509Certificate2 parsed = X509CertificateLoader.LoadCertificate(first.Der.Span);
        using X509Certificate2 other = X509CertificateLoader.LoadCertificate(second.Der.Span);
        using ECDsa? publicKey = parsed.GetECDsaPublicKey();

        Assert.Multiple(() =>
        {
            Assert.That(publicKey, Is.Not.Null);
            Assert.That(publicKey!.KeySize, Is.EqualTo(256));
            Assert.That(parsed.NotAfter.ToUniversalTime(), Is.EqualTo(new DateTime(2030, 1, 31, 0, 0, 0, DateTimeKind.Utc)));
            Assert.That(parsed.NotBefore.ToUniversalTime(), Is.LessThan(new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc)));
            Assert.That(parsed.SerialNumber, Is.Not.EqualTo(other.SerialNumber));
            Assert.That(first.Fingerprint, Is.Not.EqualTo(second.Fingerprint));
        });
    }

    [Test]
    public void Fingerprint_RoundTripsThroughTryParse()
    {
        using DtlsCertificate certificate = DtlsCertificate.Generate();

        Assert.That(DtlsFingerprint.TryParse(certificate.Fingerprint.ToString().ToLowerInvariant(), out DtlsFingerprint? parsed), Is.True);
        Assert.That(parsed!.GetSha256Digest(), Is.EqualTo(SHA256.HashData(certificate.Der.Span)));
        Assert.That(DtlsFingerprint.Parse(certificate.Fingerprint.ToString()), Is.EqualTo(certificate.Fingerprint));
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("sha-256")]
    public void TryParse_RejectsAnythingButHashFunctionAndValue(string? value)
    {
        Assert.That(DtlsFingerprint.TryParse(value, out _), Is.False);
    }

    [TestCase("sha-1 AB:CD:EF")]
    [TestCase("sha-256 AB:CD")]
    [TestCase("sha-256 ZZ:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00")]
    [TestCase("sha-256 00-00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00")]
    public void GetSha256Digest_RejectsAnythingButSha256(string value)
    {
        Assert.That(() => DtlsFingerprint.Parse(value).GetSha256Digest(), Throws.TypeOf<FormatException>());
    }
}
