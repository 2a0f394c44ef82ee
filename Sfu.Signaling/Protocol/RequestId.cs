using System.Text.Json;

namespace Sfu.Signaling.Protocol;

/// <summary>A request's <c>id</c>: an integer or a string chosen by the client, echoed in its response.</summary>
public readonly struct RequestId : IEquatable<RequestId>
{
    private readonly long _number;
    private readonly string? _text;

    private RequestId(long number, string? text, bool present)
    {
        _number = number;
        _text = text;
        IsPresent = present;
    }

    /// <summary>The id of messages that could not be parsed far enough to have one: written as <c>null</c>.</summary>
    public static RequestId None => default;

    public static RequestId FromNumber(long number) => new(number, null, true);

    public static RequestId FromText(string text) => new(0, text, true);

    public bool IsPresent { get; }

    /// <summary>Reads an id; false when it is neither an integer nor a string of at most <paramref name="maxTextLength"/> characters.</summary>
    public static bool TryRead(JsonElement element, int maxTextLength, out RequestId id)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Number when element.TryGetInt64(out var number):
                id = FromNumber(number);
                return true;
            case JsonValueKind.String when element.GetString() is { } text && text.Length <= maxTextLength:
                id = FromText(text);
                return true;
            default:
                id = None;
                return false;
        }
    }

    public void WriteTo(Utf8JsonWriter writer, string propertyName)
    {
        if (!IsPresent) writer.WriteNull(propertyName);
        else if (_text is not null) writer.WriteString(propertyName, _text);
        else writer.WriteNumber(propertyName, _number);
    }

    public bool Equals(RequestId other) =>
        IsPresent == other.IsPresent && _number == other._number && string.Equals(_text, other._text, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is RequestId other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(IsPresent, _number, _text);

    public override string ToString() => !IsPresent ? "null" : _text ?? _number.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
