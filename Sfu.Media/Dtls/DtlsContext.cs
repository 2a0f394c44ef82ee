using System.Runtime.InteropServices;
using Sfu.Media.Interop;

namespace Sfu.Media.Dtls;

/// <summary>
/// One OpenSSL <c>SSL_CTX</c> per role, shared by every <see cref="DtlsTransport"/> of that
/// role: certificate, cipher suites, DTLS-SRTP profiles and verification are configured once.
/// </summary>
public sealed class DtlsContext : IDisposable
{
    // ECDHE-ECDSA with AES-GCM only: our certificate is ECDSA, every current browser offers
    // ECDHE-ECDSA-AES128-GCM-SHA256 for DTLS 1.2, and a single AEAD family fixes the smallest
    // possible encrypted record, which DtlsDatagrams relies on to drop forged short records.
    private const string CipherList = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384";

    // What the SFU offers, most preferred first: OpenSSL as the DTLS server picks the first of
    // its own list that the client also offers, so GCM wins whenever the browser has it.
    // Only profiles Sfu.Media.Srtp implements belong here.
    private const string DefaultSrtpProfiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";

    private DtlsContext(SafeSslContextHandle handle, DtlsRole role, DtlsCertificate certificate)
    {
        Handle = handle;
        Role = role;
        Certificate = certificate;
    }

    public DtlsRole Role { get; }

    /// <summary>The local identity; its <see cref="DtlsCertificate.Fingerprint"/> goes in SDP.</summary>
    public DtlsCertificate Certificate { get; }

    internal SafeSslContextHandle Handle { get; }

    /// <param name="certificate">Local identity; the context keeps its own native references.</param>
    /// <param name="role">Server for the SFU, client for test clients.</param>
    /// <param name="srtpProfiles">
    /// OpenSSL profile names, most preferred first (a server picks the first it shares with the client).
    /// </param>
    public static unsafe DtlsContext Create(
        DtlsCertificate certificate,
        DtlsRole role,
        string srtpProfiles = DefaultSrtpProfiles)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentException.ThrowIfNullOrEmpty(srtpProfiles);

        // DTLS_method negotiates 1.0 and 1.2 in OpenSSL 3.0; 1.0 is disabled below. A browser
        // that also offers DTLS 1.3 falls back to 1.2 with this server.
        SafeSslContextHandle handle = Ssl.SSL_CTX_new(Ssl.DTLS_method());
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw Crypto.CreateException("SSL_CTX_new");
        }

        try
        {
            Crypto.ERR_clear_error();
            Check(Ssl.SSL_CTX_use_certificate(handle, certificate.X509) == 1, "SSL_CTX_use_certificate");
            Check(Ssl.SSL_CTX_use_PrivateKey(handle, certificate.PrivateKey) == 1, "SSL_CTX_use_PrivateKey");
            Check(Ssl.SSL_CTX_check_private_key(handle) == 1, "SSL_CTX_check_private_key");
            Check(Ssl.SSL_CTX_set_min_proto_version(handle, Ssl.DTLS1_2_VERSION) == 1, "SSL_CTX_set_min_proto_version");
            Check(Ssl.SSL_CTX_set_cipher_list(handle, CipherList) == 1, "SSL_CTX_set_cipher_list");
            Check(Ssl.SSL_CTX_set_tlsext_use_srtp(handle, srtpProfiles) == 0, "SSL_CTX_set_tlsext_use_srtp");

            // Memory BIOs cannot report a path MTU: each connection sets its own with SSL_set_mtu.
            // Tickets and the session cache are useless: every WebRTC transport is a fresh peer.
            // Server preference picks AES-128 when a peer lists AES-256 first.
            Ssl.SSL_CTX_set_options(
                handle, Ssl.SSL_OP_NO_QUERY_MTU | Ssl.SSL_OP_NO_TICKET | Ssl.SSL_OP_CIPHER_SERVER_PREFERENCE);
            Ssl.SSL_CTX_disable_session_cache(handle);

            // Both ends must present a certificate, but it is self-signed, so chain validation
            // would always fail: accept any here and authenticate by the SDP fingerprint after
            // the handshake (RFC 8122).
            Ssl.SSL_CTX_set_verify(
                handle,
                Ssl.SSL_VERIFY_PEER | Ssl.SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                &AcceptAnyCertificate);
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        return new DtlsContext(handle, role, certificate);
    }

    public void Dispose() => Handle.Dispose();

    private static void Check(bool succeeded, string operation)
    {
        if (!succeeded)
        {
            throw Crypto.CreateException(operation);
        }
    }

    [UnmanagedCallersOnly]
    private static int AcceptAnyCertificate(int preverifyOk, nint storeContext) => 1;
}
