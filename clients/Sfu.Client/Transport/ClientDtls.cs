using System.Collections.Concurrent;
using Sfu.Media.Dtls;

namespace Sfu.Client.Transport;

/// <summary>
/// The process's client-side DTLS identity: one certificate and one client-role context per profile list,
/// shared by every transport, as a browser shares one certificate across its PeerConnections. Key
/// generation is the slow part, so a load tool must not pay it per transport.
/// </summary>
public static class ClientDtls
{
    /// <summary>What Chrome offers first: AES-GCM, then AES-CM with HMAC-SHA1-80.</summary>
    public const string DefaultSrtpProfiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";

    public const string AesCmOnly = "SRTP_AES128_CM_SHA1_80";

    private static readonly Lazy<DtlsCertificate> Certificate = new(() => DtlsCertificate.Generate());
    private static readonly ConcurrentDictionary<string, Lazy<DtlsContext>> Contexts = new();

    public static DtlsContext Context(string srtpProfiles) =>
        Contexts.GetOrAdd(srtpProfiles, p => new Lazy<DtlsContext>(() => DtlsContext.Create(Certificate.Value, DtlsRole.Client, p))).Value;
}
