using System.Security.Cryptography;
using System.Text;

namespace Sfu.Media.Stun;

/// <summary>
/// One side's ICE ufrag and password (RFC 8839 section 5.4). The password's UTF-8 bytes are the
/// MESSAGE-INTEGRITY key, kept here so the receive path never encodes strings.
/// </summary>
public sealed class IceCredentials
{
    public const int MinUfragLength = 4;
    public const int MinPasswordLength = 22;
    public const int MaxLength = 256;

    // ice-char = ALPHA / DIGIT / "+" / "/": 64 symbols, so each carries 6 random bits.
    private const string IceChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    // 8 chars = 48 bits, above RFC 8445's 24 for a ufrag; 24 chars = 144 bits, above its 128 for a password.
    private const int GeneratedUfragLength = 8;
    private const int GeneratedPasswordLength = 24;

    private readonly byte[] _ufragBytes;
    private readonly byte[] _passwordBytes;

    public IceCredentials(string ufrag, string password)
    {
        if (!IsValid(ufrag, MinUfragLength))
        {
            throw new ArgumentException("An ICE ufrag is 4 to 256 ice-chars.", nameof(ufrag));
        }

        if (!IsValid(password, MinPasswordLength))
        {
            throw new ArgumentException("An ICE password is 22 to 256 ice-chars.", nameof(password));
        }

        Ufrag = ufrag;
        Password = password;
        _ufragBytes = Encoding.ASCII.GetBytes(ufrag);
        _passwordBytes = Encoding.ASCII.GetBytes(password);
    }

    public string Ufrag { get; }

    public string Password { get; }

    public ReadOnlySpan<byte> UfragBytes => _ufragBytes;

    /// <summary>The short-term credential key for MESSAGE-INTEGRITY.</summary>
    public ReadOnlySpan<byte> PasswordBytes => _passwordBytes;

    /// <summary>Fresh credentials from the cryptographic RNG.</summary>
    public static IceCredentials Generate() =>
        new(RandomNumberGenerator.GetString(IceChars, GeneratedUfragLength),
            RandomNumberGenerator.GetString(IceChars, GeneratedPasswordLength));

    /// <summary>True when <paramref name="value"/> is a legal ufrag or password for the given minimum length.</summary>
    public static bool IsValid(string? value, int minLength)
    {
        if (value is null || value.Length < minLength || value.Length > MaxLength)
        {
            return false;
        }

        foreach (char c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '+' && c != '/')
            {
                return false;
            }
        }

        return true;
    }
}
