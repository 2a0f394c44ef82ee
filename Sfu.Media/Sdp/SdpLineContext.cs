using System.Globalization;

namespace Sfu.Media.Sdp;

/// <summary>The line being parsed, so every helper can fail with its number and text.</summary>
internal readonly record struct SdpLineContext(int Number, string Text)
{
    public SdpParseException Fail(string reason) => new(Number, Text, reason);

    public int ParseInt(string token, string what, int min, int max)
    {
        if (!int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw Fail($"{what} must be an integer from {min} to {max}, got '{token}'");
        }

        return value;
    }

    public uint ParseUInt(string token, string what)
    {
        if (!uint.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            throw Fail($"{what} must be an unsigned 32-bit integer, got '{token}'");
        }

        return value;
    }

    public ulong ParseULong(string token, string what)
    {
        if (!ulong.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            throw Fail($"{what} must be an unsigned integer, got '{token}'");
        }

        return value;
    }

    public string[] Split(string value, int minimum, string shape)
    {
        var tokens = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length < minimum)
        {
            throw Fail($"expected {shape}");
        }

        return tokens;
    }

    public string Required(string? value, string name) =>
        string.IsNullOrWhiteSpace(value) ? throw Fail($"a={name} needs a value") : value.Trim();
}
