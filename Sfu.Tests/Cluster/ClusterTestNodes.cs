using Microsoft.Extensions.DependencyInjection;
using Sfu.Server.Cluster;
using Sfu.Signaling.Connections;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Cluster;

/// <summary>
/// Real servers on loopback, each a node of one cluster on a real redis-server, with short leases so that a node's
/// death shows within two seconds. Node ids sort in start order, so a room nobody holds goes to the first idle node.
/// </summary>
public sealed class ClusterTestNodes : IAsyncDisposable
{
    public const string Secret = "cluster-test-secret-of-at-least-32-bytes!";
    public const string ApiKey = "cluster-admin-key";
    public const int LeaseMs = 1500;
    public const int HeartbeatMs = 300;

    private readonly List<SfuTestServer> _nodes = [];

    private ClusterTestNodes(RedisServer redis) => Redis = redis;

    public RedisServer Redis { get; }

    public IReadOnlyList<SfuTestServer> Nodes => _nodes;

    public SfuTestServer this[int index] => _nodes[index];

    /// <summary>Starts Redis and <paramref name="count"/> nodes (<c>node-a</c>, <c>node-b</c>, ...), and waits until each sees all.</summary>
    public static async Task<ClusterTestNodes> StartAsync(int count)
    {
        var cluster = new ClusterTestNodes(await RedisServer.StartAsync());
        for (var i = 0; i < count; i++) await cluster.AddNodeAsync();
        await cluster.WaitUntilEveryNodeSeesAsync(count);
        return cluster;
    }

    public static string[] Settings(RedisServer redis, string nodeId) =>
    [
        $"Sfu:Cluster:Redis={redis.Configuration}",
        $"Sfu:Cluster:Secret={Secret}",
        $"Sfu:Cluster:NodeId={nodeId}",
        $"Sfu:Cluster:LeaseMs={LeaseMs}",
        $"Sfu:Cluster:HeartbeatMs={HeartbeatMs}",
        $"Sfu:Admin:ApiKey={ApiKey}",
    ];

    public static string NodeId(int index) => $"node-{(char)('a' + index)}";

    /// <param name="nodeId">Default: the next id after the nodes this object started.</param>
    public async Task<SfuTestServer> AddNodeAsync(string? nodeId = null)
    {
        var node = await SfuTestServer.StartAsync(null, Settings(Redis, nodeId ?? NodeId(_nodes.Count)));
        _nodes.Add(node);
        return node;
    }

    public async Task WaitUntilEveryNodeSeesAsync(int count)
    {
        foreach (var node in _nodes)
            await Eventually.HoldsAsync(async () => (await Directory(node).LiveNodesAsync()).Count == count, $"{count} live nodes");
    }

    internal static ClusterDirectory Directory(SfuTestServer node) => node.Services.GetRequiredService<ClusterNode>().Directory;

    /// <summary>Whether the room is open on <paramref name="node"/> (its signaling holds it), not only listed.</summary>
    public static bool Hosts(SfuTestServer node, string roomId) => node.Services.GetRequiredService<SignalingService>().Rooms.Find(roomId) is not null;

    /// <summary>The index of the one node that has the room open; fails if none or several do.</summary>
    public int Owner(string roomId)
    {
        var owners = Enumerable.Range(0, _nodes.Count).Where(i => Hosts(_nodes[i], roomId)).ToList();
        Assert.That(owners, Has.Count.EqualTo(1), $"nodes hosting '{roomId}'");
        return owners[0];
    }

    /// <summary>Stops a node as SIGTERM does (graceful shutdown); it stays listed for disposal, which is then a no-op.</summary>
    public async Task StopAsync(int index) => await _nodes[index].App.StopAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        Redis.Dispose();
    }
}
