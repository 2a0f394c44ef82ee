using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using Sfu.Server.Cluster;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Cluster;

/// <summary>
/// Nodes leaving the cluster: gracefully (SIGTERM: 1001 and a re-join elsewhere at once) or killed (the room moves once
/// its lease expires); and Redis itself going away, which a node survives with the rooms it has.
/// </summary>
[NonParallelizable]
public sealed class ClusterFailoverTests
{
    /// <summary>The lease a dead node's room waits out, and generous time for a loaded machine.</summary>
    private static readonly TimeSpan GiveUp = TimeSpan.FromMilliseconds(ClusterTestNodes.LeaseMs) + TimeSpan.FromSeconds(30);

    [Test]
    public async Task GracefulShutdown_ClientsGet1001_AndRejoinTheirRoomOnAnotherNode()
    {
        await using var cluster = await ClusterTestNodes.StartAsync(2);
        var (alice, aliceJoin) = await cluster[1].JoinAsync("handover", "alice");
        var (carol, carolJoin) = await cluster[0].JoinAsync("handover", "carol");
        Assert.That(cluster.Owner("handover"), Is.EqualTo(0));

        // Stopping blocks its caller while it waits for the sockets to close, as the SIGTERM handler does.
        var stopping = Task.Run(() => cluster.StopAsync(0));
        Assert.Multiple(async () =>
        {
            Assert.That(await alice.Closed.WaitAsync(TestClient.DefaultWait), Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable), "1001 through the relay");
            Assert.That(await carol.Closed.WaitAsync(TestClient.DefaultWait), Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable), "1001 directly");
        });
        await alice.DisposeAsync();
        await carol.DisposeAsync();

        // What the SDKs do on 1001: reconnect (the load balancer now sends everyone to node-b) and resume; the
        // session went with its node, so they join again.
        var (aliceAgain, aliceHow) = await ReconnectAsync(cluster[1], "handover", "alice", aliceJoin);
        var (carolAgain, carolHow) = await ReconnectAsync(cluster[1], "handover", "carol", carolJoin);
        await using var _a = aliceAgain;
        await using var _c = carolAgain;
        var joined = await aliceAgain.NextEventAsync("peer-joined");
        await stopping;

        Assert.Multiple(() =>
        {
            Assert.That(aliceHow, Is.EqualTo("rejoined"));
            Assert.That(carolHow, Is.EqualTo("rejoined"));
            Assert.That(ClusterTestNodes.Hosts(cluster[1], "handover"), Is.True, "node-b hosts the room now");
            Assert.That(joined.GetProperty("peer").GetProperty("name").GetString(), Is.EqualTo("carol"));
        });
    }

    [Test]
    public async Task KilledNode_ItsRoomMovesOnceItsLeaseExpires()
    {
        await using var cluster = await ClusterTestNodes.StartAsync(0);
        using var killed = await NodeProcess.StartAsync(cluster.Redis, ClusterTestNodes.NodeId(0));
        var survivor = await cluster.AddNodeAsync(ClusterTestNodes.NodeId(1));
        await cluster.WaitUntilEveryNodeSeesAsync(2);

        var (alice, aliceJoin) = await survivor.JoinAsync("fragile", "alice");
        Assert.That(ClusterTestNodes.Hosts(survivor, "fragile"), Is.False, "relayed to node-a");
        await Eventually.HoldsAsync(async () => await ClusterTestNodes.Directory(survivor).RoomOwnerAsync("fragile") == "node-a", "node-a holding the lease");

        killed.Kill();
        Assert.That(await alice.Closed.WaitAsync(TestClient.DefaultWait), Is.Null, "the relay drops the client as the node dropped the relay");
        await alice.DisposeAsync();
        var (again, how) = await ReconnectAsync(survivor, "fragile", "alice", aliceJoin);
        await using var _ = again;

        // How long this takes is measured by `Sfu.LoadTest failover` (docs/BENCHMARKS.md), not asserted here.
        Assert.Multiple(() =>
        {
            Assert.That(how, Is.EqualTo("rejoined"));
            Assert.That(ClusterTestNodes.Hosts(survivor, "fragile"), Is.True);
        });
    }

    [Test]
    public async Task RedisLostAtRunTime_IsLoggedAndCounted_AndRoomsKeepWorking()
    {
        await using var cluster = await ClusterTestNodes.StartAsync(1);
        var node = cluster[0];
        var (alice, _) = await node.JoinAsync("steady", "alice");
        var (bob, _) = await node.JoinAsync("steady", "bob");
        await using var _a = alice;
        await using var _b = bob;
        await alice.NextEventAsync("peer-joined");

        cluster.Redis.Kill();
        await Eventually.MetricIsAsync(node, "sfu_cluster_redis_up", 0);
        await Eventually.MetricReachesAsync(node, "sfu_cluster_redis_errors_total{operation=\"heartbeat\"}", 1);

        await bob.RequestAsync(new { type = "leave" });
        var left = await alice.NextEventAsync("peer-left");
        var (carol, carolJoin) = await node.JoinAsync("fresh", "carol");
        await using var _c = carol;
        var metrics = await MetricsSnapshot.ScrapeAsync(node);
        Assert.Multiple(() =>
        {
            Assert.That(left.GetProperty("reason").GetString(), Is.EqualTo("leave"), "the room on this node goes on");
            Assert.That(carolJoin.GetProperty("ok").GetBoolean(), Is.True, "a new room opens here");
            Assert.That(metrics["sfu_cluster_placements_total{target=\"fallback\"}"], Is.EqualTo(1));
            Assert.That(metrics["sfu_cluster_redis_errors_total{operation=\"placement\"}"], Is.EqualTo(1));
        });
    }

    /// <summary>
    /// What a client SDK does after losing its socket: resume, and join again when the session is gone; retried while
    /// the node it reaches cannot serve it yet (1001: the room's node is unreachable until its lease expires). It gives up
    /// only after <see cref="GiveUp"/>: a bound on a broken cluster, not a measurement (that is `Sfu.LoadTest failover`).
    /// </summary>
    private static async Task<(TestClient Client, string How)> ReconnectAsync(SfuTestServer node, string room, string name, JsonElement join)
    {
        var deadline = DateTime.UtcNow + GiveUp;
        while (true)
        {
            var client = await node.ConnectAsync();
            var resume = client.RequestAsync(new
            {
                type = "resume",
                sessionId = join.GetProperty("sessionId").GetString(),
                resumeToken = join.GetProperty("resumeToken").GetString(),
                lastSeq = join.GetProperty("seq").GetInt64(),
            });
            if (await Task.WhenAny(resume, client.Closed) == resume)
            {
                if (resume.Result.GetProperty("ok").GetBoolean()) return (client, "resumed");
                Assert.That(resume.Result.GetProperty("error").GetProperty("code").GetString(), Is.EqualTo("session_expired"));
                await client.DisposeAsync();
                client = await node.ConnectAsync();
                var joined = client.RequestAsync(new { type = "join", room, name });
                if (await Task.WhenAny(joined, client.Closed) == joined && joined.Result.GetProperty("ok").GetBoolean()) return (client, "rejoined");
            }
            await client.DisposeAsync();
            if (DateTime.UtcNow > deadline) Assert.Fail($"not back in '{room}' within {GiveUp.TotalSeconds:F1} s");
            await Task.Delay(200);
        }
    }
}

/// <summary>A cluster node as its own process (the built Sfu.Server.dll), so that a test can SIGKILL it.</summary>
internal static class NodeProcess
{
    /// <summary>Starts the node and returns once it has registered in the cluster.</summary>
    public static async Task<ChildProcess> StartAsync(RedisServer redis, string nodeId)
    {
        var configuration = new DirectoryInfo(TestContext.CurrentContext.TestDirectory).Parent!.Name;
        var dll = RepositoryFiles.PathOf("Sfu.Server", "bin", configuration, "net10.0", "Sfu.Server.dll");
        Assert.That(File.Exists(dll), Is.True, dll);
        var start = new ProcessStartInfo("dotnet");
        start.ArgumentList.Add(dll);
        string[] settings =
        [
            "urls=http://127.0.0.1:0", "Serilog:MinimumLevel:Default=Warning", "Sfu:Media:Port=0", "Sfu:Media:BindAddress=127.0.0.1",
            .. ClusterTestNodes.Settings(redis, nodeId),
        ];
        foreach (var setting in settings) start.ArgumentList.Add("--" + setting);
        var process = new ChildProcess(start, line => TestContext.Progress.WriteLine(line));
        using var probe = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        var directory = new ClusterDirectory(probe.GetDatabase(), ClusterTestNodes.LeaseMs);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (await directory.NodeUrlAsync(nodeId) is null)
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                var exited = process.HasExited;
                process.Dispose();
                Assert.Fail($"node {nodeId} did not register (exited: {exited})");
            }
            await Task.Delay(50);
        }
        return process;
    }
}
