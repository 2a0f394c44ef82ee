using Prometheus;
using Sfu.Media.Diagnostics;

namespace Sfu.Server.Cluster;

/// <summary>
/// The cluster's figures for one node (<c>sfu_cluster_*</c>), created only when the node is in a cluster. Every series
/// exists from start-up; <c>sfu_cluster_node_info</c> names the node, so a dashboard can pick nodes by name.
/// </summary>
internal sealed class ClusterMetrics
{
    private readonly Gauge _nodeInfo;
    private readonly Gauge _nodes;
    private readonly Gauge _redisUp;
    private readonly Gauge _relayedSessions;
    private readonly LabelledCounter _relays;
    private readonly LabelledCounter _inboundRelays;
    private readonly LabelledCounter _leaseRenewals;
    private readonly LabelledCounter _placements;
    private readonly LabelledCounter _redisErrors;

    public ClusterMetrics(CollectorRegistry registry)
    {
        var factory = MetricFactories.For(registry);
        _nodeInfo = factory.CreateGauge("sfu_cluster_node_info", "This node's id in the cluster (always 1), once the node knows its address.", ["node"]);
        _nodes = factory.CreateGauge("sfu_cluster_nodes", "Live nodes this node saw at its last heartbeat, itself included.");
        _redisUp = factory.CreateGauge("sfu_cluster_redis_up", "1 while the last Redis operation succeeded, 0 after one failed.");
        _relayedSessions = factory.CreateGauge("sfu_cluster_relayed_sockets", "Client sockets this node relays to the node that owns their room now.");
        _relays = new LabelledCounter(factory, "sfu_cluster_relays_total", "Client sockets relayed to another node, by result (ok, unreachable).", "result",
            ["ok", "unreachable"]);
        _inboundRelays = new LabelledCounter(factory, "sfu_cluster_inbound_relays_total", "Relayed sockets from other nodes, by result (accepted, forged).", "result",
            ["accepted", "forged"]);
        _leaseRenewals = new LabelledCounter(factory, "sfu_cluster_lease_renewals_total", "Room lease renewals, by result (renewed, reclaimed, lost, failed).", "result",
            ["renewed", "reclaimed", "lost", "failed"]);
        _placements = new LabelledCounter(factory, "sfu_cluster_placements_total", "First messages placed, by where they went (local, remote, fallback when Redis failed).", "target",
            ["local", "remote", "fallback"]);
        _redisErrors = new LabelledCounter(factory, "sfu_cluster_redis_errors_total", "Redis operations that failed, by operation.", "operation",
            ["heartbeat", "placement", "session", "admin", "drain"]);
        _redisUp.Set(1);
    }

    public void Identified(string nodeId) => _nodeInfo.WithLabels(nodeId).Set(1);

    public void NodesSeen(int count) => _nodes.Set(count);

    public void RedisSucceeded() => _redisUp.Set(1);

    public void RedisFailed(string operation)
    {
        _redisUp.Set(0);
        _redisErrors.Inc(operation);
    }

    public void RelayStarted()
    {
        _relays.Inc("ok");
        _relayedSessions.Inc();
    }

    public void RelayEnded() => _relayedSessions.Dec();

    public void RelayUnreachable() => _relays.Inc("unreachable");

    public void InboundRelay(bool accepted) => _inboundRelays.Inc(accepted ? "accepted" : "forged");

    public void LeaseRenewed(LeaseRenewal result) => _leaseRenewals.Inc(result switch
    {
        LeaseRenewal.Renewed => "renewed",
        LeaseRenewal.Reclaimed => "reclaimed",
        _ => "lost",
    });

    public void LeaseRenewalFailed() => _leaseRenewals.Inc("failed");

    public void Placed(string target) => _placements.Inc(target);
}
