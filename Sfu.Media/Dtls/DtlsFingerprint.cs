using System.Security.Cryptography;

namespace Sfu.Media.Dtls;

/// <summary>The SDP <c>a=fingerprint</c> form of a certificate hash: "sha-256 AB:CD:...".</summary>
public static class DtlsFingerprint
{
    public const string Algorithm = "sha-256";

    /// <summary>SHA-256 of a DER certificate, formatted as it appears in SDP.</summary>
    public static string FromCertificate(ReadOnlySpan<byte> der)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(der, hash);
        return Format(hash);
    }

    public static string Format(ReadOnlySpan<byte> sha256)
    {
        // "sha-256 " + 32 * "XX" + 31 * ":"
        return string.Create(Algorithm.Length + 1 + (sha256.Length * 3) - 1, sha256.ToArray(), static (chars, bytes) =>
        {
            Algorithm.AsSpan().CopyTo(chars);
            int at = Algorithm.Length;
            chars[at++] = ' ';
            for (int i = 0; i < bytes.Length; i++)
            {
                if (i > 0)
                {
                    chars[at++] = ':';
                }

                bytes[i].TryFormat(chars.Slice(at, 2), out _, "X2");
                at += 2;
            }
        });
    }

    /// <summary>
    /// Parses "sha-256 AB:CD:..." (algorithm name case-insensitive, hex either case) into the
    /// 32-byte hash. Other algorithms are rejected: every browser we serve offers sha-256.
    /// </summary>
    public static bool TryParse(string? value, out byte[] sha256)
    {
        sha256 = [];
        if (value is null)
        {
            return false;
        }

        ReadOnlySpan<char> text = value.AsSpan().Trim();
        int space = text.IndexOf(' ');
        if (space < 0 || !text[..space].Equals(Algorithm, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        ReadOnlySpan<char> hex = text[(space + 1)..].Trim();
        if (hex.Length != (SHA256.HashSizeInBytes * 3) - 1)
        {
            return false;
        }

        byte[] result = new byte[SHA256.HashSizeInBytes];
        for (int i = 0; i < result.Length; i++)
        {
            int at = i * 3;
            if ((i > 0 && hex[at - 1] != ':')
                || !byte.TryParse(hex.Slice(at, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out result[i]))
            {
                return false;
            }
        }

        sha256 = result;
        return true;
    }
}
