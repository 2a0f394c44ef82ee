namespace Sfu.Media;

/// <summary>Media plane settings, bound from <c>Sfu:Media</c>.</summary>
public sealed class MediaOptions
{
    public const string SectionName = "Sfu:Media";

    /// <summary>
    /// The first media worker's UDP port; worker i listens on <c>Port + i</c>, so a server with <see cref="Workers"/>
    /// workers uses the range <c>Port</c> to <c>Port + Workers - 1</c> (open it in firewalls and publish it from
    /// containers). 0 lets the OS pick a free port for each worker (tests).
    /// </summary>
    public int Port { get; set; } = 50000;

    /// <summary>
    /// Media worker threads, each with its own UDP (and ICE-TCP) port, its rooms, and its share of a large room's
    /// subscribers. 0, the default, means one per core (<see cref="Environment.ProcessorCount"/>).
    /// </summary>
    public int Workers { get; set; }

    /// <summary>
    /// How many more transports a room's home worker may carry than the least-loaded worker before the room's next
    /// subscriber is placed on that worker instead; the room's tracks then reach it through an in-process pipe. Small
    /// rooms stay on one worker (a pipe costs a copy per packet); a large one spreads over all of them.
    /// </summary>
    public int SpreadRoomAboveImbalance { get; set; } = 50;

    /// <summary>The worker count <see cref="Workers"/> asks for.</summary>
    public int EffectiveWorkers => Workers > 0 ? Workers : Environment.ProcessorCount;

    /// <summary>The address the UDP socket binds to.</summary>
    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>
    /// The IP put in ICE candidates: the address clients reach this server at. Needed behind NAT or in Docker;
    /// when empty, the first non-loopback IPv4 address of the host (or 127.0.0.1) is used.
    /// </summary>
    public string? AnnouncedAddress { get; set; }

    /// <summary>
    /// How long a transport's current path may be silent, while a newer path has passed an authenticated check,
    /// before media moves to the newer path without waiting for a nomination.
    /// </summary>
    public int SilentPathSwitchMs { get; set; } = 1000;

    /// <summary>ICE consent freshness (RFC 7675): a path with no authenticated check for this long is dead.</summary>
    public int ConsentTimeoutMs { get; set; } = 30000;

    /// <summary>
    /// Tracks (m-lines that are not rejected) one peer may publish. Each costs a producer with its retransmission
    /// buffer, and a line in every subscriber's offer, which must stay under the signaling message limit.
    /// </summary>
    public int MaxTracksPerPeer { get; set; } = 10;

    /// <summary>Largest interval between keyframe requests sent to one publisher stream.</summary>
    public int KeyframeRequestIntervalMs { get; set; } = 1000;

    /// <summary>
    /// The most a publisher may send on its publish transport, in bits per second: sent to it as REMB (with
    /// transport-cc its own estimate is capped by it; without, it caps the server's receive-side estimate).
    /// </summary>
    public long MaxPublishBitrate { get; set; } = 4_000_000;

    /// <summary>
    /// ICE-TCP (RFC 6544): also listen on TCP and offer a passive TCP host candidate, at a lower priority than UDP, for
    /// clients on networks that block UDP.
    /// </summary>
    public bool TcpEnabled { get; set; } = true;

    /// <summary>The first worker's ICE-TCP port (worker i listens on <c>TcpPort + i</c>); when unset, the same numbers as the UDP ports.</summary>
    public int? TcpPort { get; set; }

    /// <summary>Per connection: bytes framed for the client and not yet taken by its socket. Beyond it, packets are dropped and counted.</summary>
    public int TcpOutputBufferBytes { get; set; } = 256 * 1024;

    /// <summary>All connections together: bytes of received frames waiting for the media worker. Beyond it, frames are dropped and counted.</summary>
    public long TcpReceiveQueueBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Connections open at once that have not passed a STUN check yet; more are refused.</summary>
    public int TcpMaxUnauthenticatedConnections { get; set; } = 256;

    /// <summary>Bytes a connection may send before its first valid STUN check; beyond it, it is closed.</summary>
    public long TcpUnauthenticatedMaxBytes { get; set; } = 16 * 1024;

    /// <summary>How long a connection may stay open without a valid STUN check.</summary>
    public int TcpUnauthenticatedTimeoutMs { get; set; } = 5000;

    /// <summary>
    /// Addresses TURN servers relay from (coturn's relay-ip, or the host's address when unset there). A path from one
    /// of them is counted as relayed in <c>sfu_media_transports_by_protocol</c>; nothing else depends on it.
    /// </summary>
    public string[] RelayAddresses { get; set; } = [];
}
