namespace Sfu.Signaling.Turn;

/// <summary>TURN servers clients may relay through, bound from <c>Sfu:Turn</c>.</summary>
public sealed class TurnOptions
{
    public const string SectionName = "Sfu:Turn";

    /// <summary>
    /// TURN server URLs handed to clients (<c>turn:host:3478?transport=udp</c>, <c>turn:host:3478?transport=tcp</c>,
    /// <c>turns:host:443?transport=tcp</c>). Empty: no <c>iceServers</c> in the join response.
    /// </summary>
    public string[] Urls { get; set; } = [];

    /// <summary>The TURN REST API shared secret: coturn's <c>static-auth-secret</c> (with <c>use-auth-secret</c>).</summary>
    public string? Secret { get; set; }

    /// <summary>How long the credentials in a join (or resume) response stay valid.</summary>
    public int CredentialTtlSeconds { get; set; } = 24 * 3600;
}
