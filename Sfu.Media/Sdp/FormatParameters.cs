using System.Collections;

namespace Sfu.Media.Sdp;

/// <summary>
/// The a=fmtp parameters of one payload type, in their original order. Most codecs use
/// "key=value;key=value"; a few (RED "111/111", telephone-event "0-15") are a bare value,
/// stored as a parameter with a null value so the text survives a round trip.
/// Keys compare case-insensitively (RFC 6184 and friends define them that way).
/// </summary>
public sealed class FormatParameters : IEnumerable<KeyValuePair<string, string?>>
{
    private readonly List<KeyValuePair<string, string?>> _items = [];

    public FormatParameters()
    {
    }

    public FormatParameters(IEnumerable<KeyValuePair<string, string?>> items)
    {
        foreach (var item in items)
        {
            Set(item.Key, item.Value);
        }
    }

    public int Count => _items.Count;

    public string? this[string key] => TryGet(key, out var value) ? value : null;

    public static FormatParameters Parse(string text)
    {
        var result = new FormatParameters();
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0)
            {
                result._items.Add(new(part, null));
            }
            else
            {
                result._items.Add(new(part[..eq].Trim(), part[(eq + 1)..].Trim()));
            }
        }

        return result;
    }

    public bool Contains(string key) => _items.Exists(i => string.Equals(i.Key, key, StringComparison.OrdinalIgnoreCase));

    public bool TryGet(string key, out string? value)
    {
        foreach (var item in _items)
        {
            if (string.Equals(item.Key, key, StringComparison.OrdinalIgnoreCase))
            {
                value = item.Value;
                return true;
            }
        }

        value = null;
        return false;
    }

    /// <summary>Integer value of a parameter, or <paramref name="fallback"/> when it is absent or not a number.</summary>
    public int GetInt(string key, int fallback) =>
        TryGet(key, out var value) && int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : fallback;

    /// <summary>Replaces the value of an existing key in place (keeping order) or appends it.</summary>
    public void Set(string key, string? value)
    {
        var index = _items.FindIndex(i => string.Equals(i.Key, key, StringComparison.OrdinalIgnoreCase));
        if (index >= 0)
        {
            _items[index] = new(_items[index].Key, value);
        }
        else
        {
            _items.Add(new(key, value));
        }
    }

    public FormatParameters Clone() => new(_items);

    public IEnumerator<KeyValuePair<string, string?>> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Join(';', _items.Select(i => i.Value is null ? i.Key : $"{i.Key}={i.Value}"));
}
