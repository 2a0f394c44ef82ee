namespace Sfu.Media.Srtp;

/// <summary>This endpoint's role in the DTLS handshake that produced the keying material.</summary>
public enum SrtpRole
{
    Client,
    Server,
}

/// <summary>
/// The two master keys of a DTLS-SRTP association: <see cref="Local"/> protects what this
/// endpoint sends, <see cref="Remote"/> unprotects what it receives.
/// </summary>
public readonly record struct SrtpKeyPair(SrtpMasterKey Local, SrtpMasterKey Remote);

/// <summary>Splits the "EXTRACTOR-dtls_srtp" exporter output into per-direction master keys.</summary>
public static class SrtpKeyingMaterial
{
    /// <summary>The exporter label RFC 5764 section 4.2 prescribes.</summary>
    public const string ExporterLabel = "EXTRACTOR-dtls_srtp";

    /// <summary>How many bytes to export for <paramref name="profile"/>: two keys and two salts.</summary>
    public static int Length(SrtpProfile profile) => 2 * (profile.KeyLength() + profile.SaltLength());

    /// <summary>
    /// RFC 5764 section 4.2 lays the material out as
    /// client_write_key | server_write_key | client_write_salt | server_write_salt.
    /// The client writes with the client keys, so a server's local key is the server half.
    /// </summary>
    public static SrtpKeyPair Split(SrtpProfile profile, ReadOnlySpan<byte> material, SrtpRole role)
    {
        if (material.Length != Length(profile))
        {
            throw new ArgumentException($"{profile} needs {Length(profile)} bytes of keying material, got {material.Length}.", nameof(material));
        }

        int keyLength = profile.KeyLength();
        int saltLength = profile.SaltLength();
        ReadOnlySpan<byte> clientKey = material.Slice(0, keyLength);
        ReadOnlySpan<byte> serverKey = material.Slice(keyLength, keyLength);
        ReadOnlySpan<byte> clientSalt = material.Slice(2 * keyLength, saltLength);
        ReadOnlySpan<byte> serverSalt = material.Slice(2 * keyLength + saltLength, saltLength);

        var client = new SrtpMasterKey(profile, clientKey, clientSalt);
        var server = new SrtpMasterKey(profile, serverKey, serverSalt);
        return role == SrtpRole.Server ? new SrtpKeyPair(server, client) : new SrtpKeyPair(client, server);
    }
}
