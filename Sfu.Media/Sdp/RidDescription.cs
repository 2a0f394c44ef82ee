namespace Sfu.Media.Sdp;

/// <summary>Direction of an a=rid line (RFC 8851); unlike media directions there are only two.</summary>
public enum RidDirection
{
    Send,
    Recv,
}

/// <summary>
/// a=rid (RFC 8851): one RTP stream id with its restrictions ("pt=96,97;max-width=1280").
/// The pt restriction is kept with the others, in order, and exposed parsed.
/// </summary>
public sealed record RidDescription(string Id, RidDirection Direction, FormatParameters Restrictions)
{
    public RidDescription(string id, RidDirection direction)
        : this(id, direction, new FormatParameters())
    {
    }

    /// <summary>The payload types this rid is restricted to, or empty when it may use any.</summary>
    public IReadOnlyList<int> PayloadTypes =>
        Restrictions["pt"] is { } pts
            ? pts.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => int.TryParse(p, out var n) ? n : -1).Where(n => n >= 0).ToArray()
            : [];

    public override string ToString()
    {
        var direction = Direction == RidDirection.Send ? "send" : "recv";
        return Restrictions.Count == 0 ? $"{Id} {direction}" : $"{Id} {direction} {Restrictions}";
    }
}
