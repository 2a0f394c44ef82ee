namespace Sfu.Server.Cluster;

/// <summary>
/// Settings of a cluster of nodes, bound from <c>Sfu:Cluster</c>. With <see cref="Redis"/> empty the server is one
/// node with everything in memory, and nothing here is used.
/// </summary>
public sealed class ClusterOptions
{
    public const string SectionName = "Sfu:Cluster";

    /// <summary>A StackExchange.Redis configuration string (<c>redis:6379,password=...</c>); empty: a single node.</summary>
    public string? Redis { get; set; }

    /// <summary>This node's name in the cluster; default: the host name and the HTTP port (<c>sfu-1:8080</c>).</summary>
    public string? NodeId { get; set; }

    /// <summary>
    /// How other nodes reach this node's signaling endpoint (<c>ws://10.0.0.5:8080/ws</c>); default: the address Kestrel
    /// listens on, with the host name in place of a wildcard address.
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary>
    /// Shared by every node: signs the headers a relaying node sends, so that a client cannot pose as a relay (and
    /// choose the address the owner sees). At least 32 bytes.
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>How long a room's lease and a node's record live without a heartbeat: how soon a dead node's rooms move.</summary>
    public int LeaseMs { get; set; } = 5000;

    /// <summary>How often a node renews its record and its rooms' leases; well under <see cref="LeaseMs"/>.</summary>
    public int HeartbeatMs { get; set; } = 1000;

    /// <summary>How long a node waits for Redis at start-up before refusing to start.</summary>
    public int ConnectTimeoutMs { get; set; } = 5000;

    public const int MinimumSecretBytes = 32;

    public bool IsEnabled => !string.IsNullOrWhiteSpace(Redis);
}
