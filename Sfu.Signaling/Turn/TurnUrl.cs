namespace Sfu.Signaling.Turn;

/// <summary>Reading a TURN URL (RFC 7065: <c>turn:host[:port][?transport=udp|tcp]</c>, <c>turns:</c>).</summary>
public static class TurnUrl
{
    /// <summary>The host part: <c>turn:192.0.2.7:3478?transport=tcp</c> → <c>192.0.2.7</c>; an IPv6 literal loses its brackets.</summary>
    public static string HostOf(string url)
    {
        var rest = url[(url.IndexOf(':') + 1)..];
        var query = rest.IndexOf('?');
        if (query >= 0) rest = rest[..query];
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']');
            return close < 0 ? rest[1..] : rest[1..close];
        }
        var port = rest.LastIndexOf(':');
        return port < 0 ? rest : rest[..port];
    }
}
