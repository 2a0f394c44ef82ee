using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Sfu.Signaling.Turn;

/// <summary>
/// Time-limited TURN credentials by the TURN REST API scheme coturn implements (<c>use-auth-secret</c>): the username
/// is <c>&lt;expiry unix time&gt;:&lt;peer id&gt;</c>, the password is base64(HMAC-SHA1(secret, username)). The TURN
/// server checks both with the same secret and refuses the username once its time has passed; nothing is stored.
/// </summary>
public sealed class TurnCredentials
{
    private readonly TurnOptions _options;
    private readonly byte[] _secret;
    private readonly TimeProvider _time;

    public TurnCredentials(IOptions<TurnOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _secret = Encoding.UTF8.GetBytes(_options.Secret ?? "");
        _time = time;
    }

    public bool IsConfigured => _options.Urls.Length > 0;

    /// <summary>The RTCIceServer list for one peer (JSON, as RTCConfiguration.iceServers takes it); null when no TURN server is configured.</summary>
    public JsonArray? IceServersFor(string peerId)
    {
        if (!IsConfigured) return null;
        var expiry = _time.GetUtcNow().AddSeconds(_options.CredentialTtlSeconds).ToUnixTimeSeconds();
        var username = $"{expiry}:{peerId}";
        return
        [
            new JsonObject
            {
                ["urls"] = new JsonArray([.. _options.Urls.Select(u => (JsonNode)u)]),
                ["username"] = username,
                ["credential"] = Password(username),
            },
        ];
    }

    /// <summary>What the TURN server computes for <paramref name="username"/>.</summary>
    public string Password(string username) => Convert.ToBase64String(HMACSHA1.HashData(_secret, Encoding.UTF8.GetBytes(username)));

    /// <summary>Start-up check: URLs need a secret and a known scheme, the TTL must be positive.</summary>
    public static bool IsValid(TurnOptions options) =>
        options.Urls.Length == 0
        || (!string.IsNullOrEmpty(options.Secret)
            && options.CredentialTtlSeconds > 0
            && options.Urls.All(u => u.StartsWith("turn:", StringComparison.Ordinal) || u.StartsWith("turns:", StringComparison.Ordinal) || u.StartsWith("stun:", StringComparison.Ordinal)));
}
