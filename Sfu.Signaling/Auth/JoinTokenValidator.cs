using System.Security.Claims;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sfu.Signaling.Protocol;
using Sfu.Signaling.Rooms;

namespace Sfu.Signaling.Auth;

/// <summary>What a join is allowed: who the peer is and what it may do.</summary>
public sealed record JoinGrant(string? Identity, string? Name, PeerRights Rights);

/// <summary>
/// Checks join tokens: JWT HS256 with claims <c>room</c> (the room id, or <c>*</c>), <c>sub</c> (identity),
/// <c>exp</c>, optional <c>name</c>, and <c>publish</c>/<c>subscribe</c> booleans (default true). When no secret is
/// configured every join is anonymous and may do everything.
/// </summary>
public sealed class JoinTokenValidator
{
    /// <summary>The shortest HS256 secret accepted: RFC 7518 3.2 asks for a key at least as long as the hash, 256 bits.</summary>
    public const int MinimumSecretBytes = 32;

    private static readonly TimeSpan AllowedClockSkew = TimeSpan.FromMinutes(1);

    private readonly AuthOptions _options;
    private readonly TimeProvider _time;
    private readonly JsonWebTokenHandler _handler = new();
    private readonly TokenValidationParameters? _parameters;

    public JoinTokenValidator(IOptions<AuthOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        if (string.IsNullOrEmpty(_options.TokenSecret)) return;
        _parameters = new TokenValidationParameters
        {
            IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(_options.TokenSecret)),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ValidateIssuer = !string.IsNullOrEmpty(_options.Issuer),
            ValidIssuer = _options.Issuer,
            ValidateAudience = !string.IsNullOrEmpty(_options.Audience),
            ValidAudience = _options.Audience,
            // Expiry is checked below against the server's TimeProvider, so tests can move the clock.
            ValidateLifetime = false,
            RequireExpirationTime = true,
        };
    }

    public bool TokensRequired => _parameters is not null;

    /// <summary>Validates <paramref name="token"/> for <paramref name="roomId"/>; throws <c>unauthorized</c> when it fails.</summary>
    public async Task<JoinGrant> ValidateAsync(string? token, string roomId)
    {
        if (_parameters is null) return new JoinGrant(null, null, PeerRights.All);
        if (string.IsNullOrEmpty(token))
            throw new ProtocolException(ErrorCode.Unauthorized, "this server requires a join token");

        var result = await _handler.ValidateTokenAsync(token, _parameters).ConfigureAwait(false);
        if (!result.IsValid)
            throw new ProtocolException(ErrorCode.Unauthorized, $"join token rejected: {Describe(result.Exception)}");

        var jwt = (JsonWebToken)result.SecurityToken;
        var now = _time.GetUtcNow().UtcDateTime;
        if (jwt.ValidTo <= now)
            throw new ProtocolException(ErrorCode.Unauthorized, "join token expired");
        // An absent nbf reads as DateTime.MinValue. A little skew is allowed for the token issuer's clock.
        if (jwt.ValidFrom > now + AllowedClockSkew)
            throw new ProtocolException(ErrorCode.Unauthorized, "join token is not valid yet (nbf)");

        var claims = result.ClaimsIdentity;
        var room = claims.FindFirst("room")?.Value;
        if (room != "*" && room != roomId)
            throw new ProtocolException(ErrorCode.Unauthorized, $"join token is not valid for room '{roomId}'");
        var identity = claims.FindFirst("sub")?.Value ?? claims.FindFirst(ClaimTypes.NameIdentifier)?.Value;
        if (string.IsNullOrEmpty(identity))
            throw new ProtocolException(ErrorCode.Unauthorized, "join token has no 'sub' (identity)");

        return new JoinGrant(identity, claims.FindFirst("name")?.Value, new PeerRights(
            Flag(claims, "publish"), Flag(claims, "subscribe")));
    }

    /// <summary>
    /// What a client is told about a rejected token: the kind of failure, never the token library's own text, which names
    /// key ids, algorithms and internals that are none of the caller's business.
    /// </summary>
    private static string Describe(Exception? failure) => failure switch
    {
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "bad signature",
        SecurityTokenInvalidAlgorithmException => "signing algorithm not allowed (HS256 only)",
        SecurityTokenInvalidAudienceException => "wrong audience",
        SecurityTokenInvalidIssuerException => "wrong issuer",
        SecurityTokenNoExpirationException => "no expiry (exp)",
        SecurityTokenMalformedException or ArgumentException => "not a well-formed JWT",
        _ => "invalid",
    };

    private static bool Flag(ClaimsIdentity claims, string name) =>
        claims.FindFirst(name)?.Value is not { } value || !string.Equals(value, "false", StringComparison.OrdinalIgnoreCase);
}
