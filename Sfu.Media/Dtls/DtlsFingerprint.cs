using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;

namespace Sfu.Media.Dtls;

/// <summary>
/// A certificate fingerprint as SDP carries it in <c>a=fingerprint</c> (RFC 8122): the hash
/// function name and the colon-separated hex digest, e.g. "sha-256 AB:CD:...".
/// </summary>
/// <remarks>
/// Any hash function parses, because SDP from a peer may list others; only sha-256 is checked
/// against a DTLS handshake (<see cref="GetSha256Digest"/>): every browser we serve offers it.
/// </remarks>
public sealed record DtlsFingerprint(string Algorithm, string Value)
{
    public const string Sha256 = "sha-256";

    /// <summary>The sha-256 fingerprint of a DER certificate, as this end announces it.</summary>
    public static DtlsFingerprint FromCertificate(ReadOnlySpan<byte> der)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(der, digest);
        return FromSha256(digest);
    }

    /// <summary>Reads "sha-256 AB:CD:..." as it appears after "a=fingerprint:"; the algorithm name is lower-cased.</summary>
    /// <exception cref="FormatException">Not two space-separated tokens.</exception>
    public static DtlsFingerprint Parse(string text) =>
        TryParse(text, out DtlsFingerprint? fingerprint)
            ? fingerprint
            : throw new FormatException("fingerprint must be '<hash-function> <hex:hex:...>'");

    /// <summary>As <see cref="Parse"/>, but false instead of an exception (also for null).</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out DtlsFingerprint? fingerprint)
    {
        fingerprint = null;
        string[]? parts = text?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts is not { Length: 2 })
        {
            return false;
        }

        fingerprint = new DtlsFingerprint(parts[0].ToLowerInvariant(), parts[1]);
        return true;
    }

    /// <summary>The 32-byte digest (hex in either case), for comparison with a peer's certificate.</summary>
    /// <exception cref="FormatException">Not "sha-256" followed by 32 colon-separated hex bytes.</exception>
    public byte[] GetSha256Digest()
    {
        ReadOnlySpan<char> hex = Value.AsSpan().Trim();
        byte[] digest = new byte[SHA256.HashSizeInBytes];
        bool valid = Algorithm.Equals(Sha256, StringComparison.OrdinalIgnoreCase)
            && hex.Length == (digest.Length * 3) - 1;
        for (int i = 0; valid && i < digest.Length; i++)
        {
            int at = i * 3;
            valid = (i == 0 || hex[at - 1] == ':')
                && byte.TryParse(hex.Slice(at, 2), NumberStyles.AllowHexSpecifier, null, out digest[i]);
        }

        return valid ? digest : throw new FormatException($"not a sha-256 DTLS fingerprint: '{this}'");
    }

    public override string ToString() => $"{Algorithm} {Value}";

    /// <summary>Upper-case hex, as RFC 8122 writes it and browsers expect.</summary>
    internal static DtlsFingerprint FromSha256(ReadOnlySpan<byte> digest)
    {
        Span<char> hex = stackalloc char[(digest.Length * 3) - 1];
        for (int i = 0; i < digest.Length; i++)
        {
            if (i > 0)
            {
                hex[(i * 3) - 1] = ':';
            }

            digest[i].TryFormat(hex.Slice(i * 3, 2), out _, "X2");
        }

        return new DtlsFingerprint(Sha256, new string(hex));
    }
}
