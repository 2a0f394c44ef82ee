using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace Sfu.Server.Cluster;

/// <summary>
/// The headers a relaying node adds to its WebSocket upgrade: which node relays, the client's real address, when, and
/// an HMAC-SHA256 of the three under the cluster secret. The owner trusts the client address only when the signature
/// matches and is recent, so a client cannot pose as a relay, and a captured header stops working within a minute.
/// </summary>
internal sealed class RelayCredentials(string secret, TimeProvider time)
{
    public const string NodeHeader = "X-Sfu-Relay-Node";
    public const string ClientHeader = "X-Sfu-Relay-Client";
    public const string TimeHeader = "X-Sfu-Relay-Time";
    public const string SignatureHeader = "X-Sfu-Relay-Signature";

    private static readonly TimeSpan MaxSkew = TimeSpan.FromSeconds(60);
    private readonly byte[] _key = Encoding.UTF8.GetBytes(secret);

    /// <summary>True when a request carries any relay header: it claims to come from a node.</summary>
    public static bool IsClaimed(IHeaderDictionary headers) => headers.ContainsKey(SignatureHeader) || headers.ContainsKey(ClientHeader);

    public IEnumerable<KeyValuePair<string, string>> Create(string nodeId, string clientAddress)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        yield return new(NodeHeader, nodeId);
        yield return new(ClientHeader, clientAddress);
        yield return new(TimeHeader, now);
        yield return new(SignatureHeader, Convert.ToBase64String(Sign(nodeId, clientAddress, now)));
    }

    /// <summary>The client address the relay vouches for, or null if the headers are missing, stale or not signed with the secret.</summary>
    public string? Verify(IHeaderDictionary headers)
    {
        if (Single(headers[NodeHeader]) is not { } node || Single(headers[ClientHeader]) is not { } client
            || Single(headers[TimeHeader]) is not { } sent || Single(headers[SignatureHeader]) is not { } signature)
            return null;
        if (!long.TryParse(sent, NumberStyles.None, CultureInfo.InvariantCulture, out var sentMs)) return null;
        var skew = time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(sentMs, 0, DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()));
        if (skew.Duration() > MaxSkew) return null;
        Span<byte> presented = stackalloc byte[64];
        if (!Convert.TryFromBase64String(signature, presented, out var length)) return null;
        return CryptographicOperations.FixedTimeEquals(presented[..length], Sign(node, client, sent)) ? client : null;
    }

    private byte[] Sign(string node, string client, string sent) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{node}\n{client}\n{sent}"));

    private static string? Single(StringValues values) => values.Count == 1 ? values[0] : null;
}
