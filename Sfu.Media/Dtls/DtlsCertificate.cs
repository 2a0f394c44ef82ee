using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sfu.Media.Interop;

// System.Security.Cryptography has its own SafeEvpPKeyHandle; this file means ours.
using SafeEvpPKeyHandle = Sfu.Media.Interop.SafeEvpPKeyHandle;

namespace Sfu.Media.Dtls;

/// <summary>
/// The process's DTLS identity: an ECDSA P-256 self-signed certificate made at startup and
/// loaded into OpenSSL. WebRTC authenticates it by the fingerprint in SDP, not by a CA, so a
/// fresh random certificate per process is both sufficient and what browsers do themselves.
/// </summary>
public sealed class DtlsCertificate : IDisposable
{
    private DtlsCertificate(byte[] der, SafeX509Handle x509, SafeEvpPKeyHandle privateKey)
    {
        Der = der;
        X509 = x509;
        PrivateKey = privateKey;
        Fingerprint = DtlsFingerprint.FromCertificate(der);
    }

    /// <summary>The sha-256 fingerprint for the local <c>a=fingerprint</c> line.</summary>
    public DtlsFingerprint Fingerprint { get; }

    /// <summary>The certificate in DER form.</summary>
    public ReadOnlyMemory<byte> Der { get; }

    internal SafeX509Handle X509 { get; }

    internal SafeEvpPKeyHandle PrivateKey { get; }

    /// <summary>Generates a new self-signed certificate valid from a day ago for <paramref name="validity"/>.</summary>
    /// <param name="validity">Defaults to 30 days; a process restart makes a new one anyway.</param>
    /// <param name="timeProvider">Clock for the validity window.</param>
    public static DtlsCertificate Generate(TimeSpan? validity = null, TimeProvider? timeProvider = null)
    {
        DateTimeOffset now = (timeProvider ?? TimeProvider.System).GetUtcNow();
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=sfu", key, HashAlgorithmName.SHA256);

        // Random positive serial: RFC 5280 wants them unique per issuer, and each process is its
        // own issuer here; the top bit is cleared so the DER INTEGER stays positive.
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;

        // A day of back-dating absorbs peers whose clocks run behind ours.
        using X509Certificate2 certificate = request.Create(
            request.SubjectName, X509SignatureGenerator.CreateForECDsa(key),
            now.AddDays(-1), now + (validity ?? TimeSpan.FromDays(30)), serial);

        return Load(certificate.RawData, key.ExportPkcs8PrivateKey());
    }

    /// <summary>Loads a DER certificate and its PKCS#8 private key into OpenSSL.</summary>
    internal static unsafe DtlsCertificate Load(byte[] certificateDer, byte[] pkcs8PrivateKey)
    {
        SafeX509Handle? x509 = null;
        SafeEvpPKeyHandle? privateKey = null;
        try
        {
            fixed (byte* der = certificateDer)
            {
                byte* cursor = der;
                x509 = Crypto.d2i_X509(0, &cursor, certificateDer.Length);
                if (x509.IsInvalid)
                {
                    throw Crypto.CreateException("d2i_X509");
                }
            }

            fixed (byte* pkcs8 = pkcs8PrivateKey)
            {
                byte* cursor = pkcs8;
                privateKey = Crypto.d2i_AutoPrivateKey(0, &cursor, pkcs8PrivateKey.Length);
                if (privateKey.IsInvalid)
                {
                    throw Crypto.CreateException("d2i_AutoPrivateKey");
                }
            }

            return new DtlsCertificate(certificateDer, x509, privateKey);
        }
        catch
        {
            x509?.Dispose();
            privateKey?.Dispose();
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8PrivateKey);
        }
    }

    public void Dispose()
    {
        // Contexts took their own references with SSL_CTX_use_certificate / _PrivateKey,
        // so disposing this does not affect transports already running.
        X509.Dispose();
        PrivateKey.Dispose();
    }
}
