namespace Sfu.Signaling.Auth;

/// <summary>Join-token settings, bound from <c>Sfu:Auth</c>.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Sfu:Auth";

    /// <summary>HS256 secret for join tokens. When empty, joins are anonymous (the embedded default).</summary>
    public string? TokenSecret { get; set; }

    /// <summary>Expected <c>iss</c>, checked only when set.</summary>
    public string? Issuer { get; set; }

    /// <summary>Expected <c>aud</c>, checked only when set.</summary>
    public string? Audience { get; set; }
}
