namespace Sfu.Signaling;

/// <summary>
/// Settings of the control plane, bound from the <c>Sfu:Signaling</c> configuration section.
/// The defaults are the product's contract (PROTOCOL.md): change them per deployment, not in code.
/// </summary>
public sealed class SignalingOptions
{
    public const string SectionName = "Sfu:Signaling";

    /// <summary>How often clients are asked to ping; must stay well under <see cref="InterruptedAfterMs"/>.</summary>
    public int PingIntervalMs { get; set; } = 1000;

    /// <summary>Silence after which the other peers are told <c>peer-state interrupted</c>.</summary>
    public int InterruptedAfterMs { get; set; } = 4000;

    /// <summary>Silence after which a peer is removed (<c>peer-left</c>, reason <c>timeout</c>).</summary>
    public int OfflineAfterMs { get; set; } = 20000;

    /// <summary>How long a room with no peers is kept, so that a quick re-join finds it as it was.</summary>
    public int EmptyRoomCloseMs { get; set; } = 10000;

    /// <summary>Largest text message accepted (PROTOCOL.md: 64 KiB).</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    public int MaxPeersPerRoom { get; set; } = 100;

    public int MaxRooms { get; set; } = 10000;

    /// <summary>Joins allowed per remote IP address per second, sustained.</summary>
    public double JoinsPerSecondPerIp { get; set; } = 5;

    /// <summary>Joins a remote IP address may make in a burst before <see cref="JoinsPerSecondPerIp"/> applies.</summary>
    public int JoinBurstPerIp { get; set; } = 20;

    /// <summary>Messages per second one socket may send, sustained; a burst of twice that is allowed.</summary>
    public double MessagesPerSecondPerSocket { get; set; } = 50;

    /// <summary>
    /// Bad messages (malformed, binary, oversized, over the rate) a socket may send in a burst before it is
    /// closed with 4000; one strike is forgiven per second.
    /// </summary>
    public int ViolationBurst { get; set; } = 10;

    /// <summary>Messages kept per session for <c>resume</c> that the client has not acknowledged yet.</summary>
    public int ReplayLogCapacity { get; set; } = 4096;

    /// <summary>Bytes of unacknowledged messages kept per session for <c>resume</c>; beyond it the oldest are forgotten.</summary>
    public long ReplayLogMaxBytes { get; set; } = 1024 * 1024;

    /// <summary>Outgoing messages queued for one socket; a client that reads slower than this is disconnected and may resume.</summary>
    public int SendQueueCapacity { get; set; } = 1024;

    /// <summary>Bytes queued for one socket, at most; as <see cref="SendQueueCapacity"/>, in bytes.</summary>
    public long SendQueueMaxBytes { get; set; } = 1024 * 1024;

    /// <summary>How long one WebSocket send may take before the socket is dropped: a client that stops reading (the session survives).</summary>
    public int SendTimeoutMs { get; set; } = 10000;

    /// <summary>How long a new socket may take to send its <c>join</c> or <c>resume</c> before it is closed with 4000.</summary>
    public int FirstMessageTimeoutMs { get; set; } = 10000;

    /// <summary>Open signaling sockets per remote IP address; beyond it the WebSocket upgrade is refused with 429.</summary>
    public int MaxSocketsPerIp { get; set; } = 200;

    /// <summary>Longest request <c>id</c> string accepted, in characters (integer ids are always accepted).</summary>
    public const int MaxRequestIdLength = 64;

    /// <summary>Enables the <c>simulate</c> request (fault injection). Off in production.</summary>
    public bool AllowSimulate { get; set; }
}
