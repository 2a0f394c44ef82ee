namespace Sfu.Media.Sdp;

/// <summary>a=fingerprint (RFC 8122): hash function name and the colon-separated hex digest.</summary>
public sealed record DtlsFingerprint(string Algorithm, string Value)
{
    /// <summary>Reads "sha-256 AB:CD:..." as it appears after "a=fingerprint:" (also how the server is configured).</summary>
    public static DtlsFingerprint Parse(string text)
    {
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2)
        {
            throw new FormatException("fingerprint must be '<hash-function> <hex:hex:...>'");
        }

        return new DtlsFingerprint(parts[0].ToLowerInvariant(), parts[1]);
    }

    public override string ToString() => $"{Algorithm} {Value}";
}
