namespace Sfu.Media.Dtls;

/// <summary>
/// SRTP master keys exported from a finished DTLS handshake (RFC 5764 section 4.2), already
/// split into this end's sending keys and the peer's.
/// </summary>
public sealed class SrtpKeyingMaterial
{
    internal SrtpKeyingMaterial(SrtpProfile profile, DtlsRole role, byte[] exported)
    {
        int keyLength = SrtpProfileInfo.KeyLength(profile);
        int saltLength = SrtpProfileInfo.SaltLength(profile);

        // Exporter output layout: client key | server key | client salt | server salt.
        byte[] clientKeyAndSalt = [.. exported.AsSpan(0, keyLength), .. exported.AsSpan(2 * keyLength, saltLength)];
        byte[] serverKeyAndSalt = [.. exported.AsSpan(keyLength, keyLength), .. exported.AsSpan((2 * keyLength) + saltLength, saltLength)];

        Profile = profile;
        Exported = exported;
        LocalKeyAndSalt = role == DtlsRole.Client ? clientKeyAndSalt : serverKeyAndSalt;
        RemoteKeyAndSalt = role == DtlsRole.Client ? serverKeyAndSalt : clientKeyAndSalt;
    }

    public SrtpProfile Profile { get; }

    /// <summary>The raw exporter output (2 * (key + salt) bytes), both directions.</summary>
    public ReadOnlyMemory<byte> Exported { get; }

    /// <summary>Master key then master salt for what this end sends (libsrtp's "key" input).</summary>
    public ReadOnlyMemory<byte> LocalKeyAndSalt { get; }

    /// <summary>Master key then master salt for what the peer sends (to unprotect).</summary>
    public ReadOnlyMemory<byte> RemoteKeyAndSalt { get; }
}
