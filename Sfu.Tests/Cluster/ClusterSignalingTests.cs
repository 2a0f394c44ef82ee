using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Sfu.Server.Cluster;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Cluster;

/// <summary>
/// Three real servers as one cluster on a real redis-server: a client may enter at any node, and its room (or its
/// session's room) is served by the node that holds the room's lease, through a transparent relay.
/// </summary>
[NonParallelizable]
public sealed class ClusterSignalingTests
{
    private ClusterTestNodes _cluster = null!;

    [SetUp]
    public async Task StartCluster() => _cluster = await ClusterTestNodes.StartAsync(3);

    [TearDown]
    public async Task StopCluster() => await _cluster.DisposeAsync();

    [Test]
    public async Task JoinsThroughDifferentNodes_MeetInTheRoomItsOwnerHolds_AndEveryNodesAdminApiListsIt()
    {
        // Every node idle: the room goes to the first by id (node-a), though neither client entered there.
        var (alice, _) = await _cluster[2].JoinAsync("standup", "alice");
        var (bob, bobJoin) = await _cluster[1].JoinAsync("standup", "bob");
        await using var _a = alice;
        await using var _b = bob;

        var joined = await alice.NextEventAsync("peer-joined");
        Assert.Multiple(() =>
        {
            Assert.That(_cluster.Owner("standup"), Is.EqualTo(0), "only node-a has the room open");
            Assert.That(joined.GetProperty("peer").GetProperty("name").GetString(), Is.EqualTo("bob"));
            Assert.That(bobJoin.GetProperty("room").GetProperty("peers")[0].GetProperty("name").GetString(), Is.EqualTo("alice"));
            Assert.That(bobJoin.GetProperty("seq").GetInt64(), Is.EqualTo(1), "the relayed session numbers from 1, as any session");
        });

        // node-c lists the room with its node, once node-a's heartbeat has published it.
        using var http = new HttpClient { BaseAddress = _cluster[2].HttpBase };
        http.DefaultRequestHeaders.Add("X-Api-Key", ClusterTestNodes.ApiKey);
        JsonElement listed = default;
        await Eventually.HoldsAsync(async () =>
        {
            var rooms = await http.GetFromJsonAsync<JsonElement>("/admin/rooms");
            listed = rooms.EnumerateArray().FirstOrDefault(r => r.GetProperty("id").GetString() == "standup");
            return listed.ValueKind == JsonValueKind.Object && listed.GetProperty("peers").GetArrayLength() == 2;
        }, "node-c listing standup with two peers");
        using var close = await http.DeleteAsync("/admin/rooms/standup");
        var refusal = await close.Content.ReadFromJsonAsync<JsonElement>();
        var atC = await MetricsSnapshot.ScrapeAsync(_cluster[2]);
        var atA = await MetricsSnapshot.ScrapeAsync(_cluster[0]);
        Assert.Multiple(() =>
        {
            Assert.That(listed.GetProperty("node").GetString(), Is.EqualTo("node-a"));
            Assert.That(close.StatusCode, Is.EqualTo(HttpStatusCode.Conflict), "closing acts where the room lives");
            Assert.That(refusal.GetProperty("node").GetString(), Is.EqualTo("node-a"));
            Assert.That(atC["sfu_cluster_relays_total{result=\"ok\"}"], Is.EqualTo(1));
            Assert.That(atC["sfu_cluster_relayed_sockets"], Is.EqualTo(1));
            Assert.That(atA["sfu_cluster_inbound_relays_total{result=\"accepted\"}"], Is.EqualTo(2));
            Assert.That(atA["sfu_cluster_nodes"], Is.EqualTo(3));
            Assert.That(atA["sfu_cluster_node_info{node=\"node-a\"}"], Is.EqualTo(1));
        });
    }

    [Test]
    public async Task NewRooms_SpreadOverTheNodes()
    {
        var clients = new List<TestClient>();
        for (var i = 0; i < 6; i++) clients.Add((await _cluster[0].JoinAsync($"room-{i}")).Client);
        try
        {
            var owners = Enumerable.Range(0, 6).Select(i => _cluster.Owner($"room-{i}")).ToList();
            TestContext.Out.WriteLine($"owners: {string.Join(", ", owners)}");
            Assert.That(owners.Distinct().Order(), Is.EqualTo(new[] { 0, 1, 2 }), "every node hosts at least one of six rooms");
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }

    [Test]
    public async Task ResumeThroughAnotherNode_ReplaysExactlyWhatWasMissed_ThenGoesOnLive()
    {
        var (alice, aliceJoin) = await _cluster[0].JoinAsync("replay", "alice");
        var lastSeq = aliceJoin.GetProperty("seq").GetInt64();
        alice.Abort(); // the network vanished: no close frame
        await alice.DisposeAsync();

        // What alice misses: bob joining and leaving.
        var (bob, _) = await _cluster[0].JoinAsync("replay", "bob");
        await bob.RequestAsync(new { type = "leave" });
        await bob.DisposeAsync();

        // Her new socket lands on another node.
        await using var resumed = await _cluster[1].ConnectAsync();
        var response = await resumed.RequestAsync(new
        {
            type = "resume",
            sessionId = aliceJoin.GetProperty("sessionId").GetString(),
            resumeToken = aliceJoin.GetProperty("resumeToken").GetString(),
            lastSeq,
        });
        var joined = await resumed.NextAsync();
        var left = await resumed.NextAsync();
        var ping = await resumed.RequestAsync(new { type = "ping", lastSeq = lastSeq + 2 });

        Assert.Multiple(() =>
        {
            Assert.That(response.GetProperty("ok").GetBoolean(), Is.True, response.ToString());
            Assert.That(response.GetProperty("replayed").GetInt32(), Is.EqualTo(2));
            Assert.That(joined.GetProperty("seq").GetInt64(), Is.EqualTo(lastSeq + 1));
            Assert.That(joined.GetProperty("event").GetString(), Is.EqualTo("peer-joined"));
            Assert.That(left.GetProperty("seq").GetInt64(), Is.EqualTo(lastSeq + 2));
            Assert.That(left.GetProperty("event").GetString(), Is.EqualTo("peer-left"));
            Assert.That(left.GetProperty("reason").GetString(), Is.EqualTo("leave"));
            Assert.That(ping.GetProperty("seq").GetInt64(), Is.EqualTo(lastSeq + 3), "live messages follow the replay through the relay");
            Assert.That(resumed.Unread(), Is.Empty, "nothing else replayed");
            Assert.That(_cluster.Owner("replay"), Is.EqualTo(0), "the session stayed where it lives");
        });
    }

    [Test]
    public async Task OwnerClosingTheSession_ClosesTheClientThroughTheRelay_WithTheSameCode()
    {
        var (alice, aliceJoin) = await _cluster[1].JoinAsync("superseded", "alice");
        await using var _ = alice;
        Assert.That(_cluster.Owner("superseded"), Is.EqualTo(0));

        // The same session resumed on a second socket: the owner closes the first with 4001, and the relay passes it on.
        await using var second = await _cluster[2].ConnectAsync();
        await second.RequestAsync(new
        {
            type = "resume",
            sessionId = aliceJoin.GetProperty("sessionId").GetString(),
            resumeToken = aliceJoin.GetProperty("resumeToken").GetString(),
            lastSeq = 1,
        });
        Assert.That(await alice.Closed.WaitAsync(TestClient.DefaultWait), Is.EqualTo((WebSocketCloseStatus)4001));
    }

    [Test]
    public async Task RelayHeadersNotSignedWithTheClusterSecret_AreRefusedWith403_AndCounted()
    {
        var forged = new RelayCredentials("not-the-cluster-secret-but-just-as-long!!", TimeProvider.System);
        var refused = Assert.ThrowsAsync<WebSocketException>(() => ConnectWithAsync(_cluster[0], forged.Create("node-b", "198.51.100.9")));
        Assert.That(refused!.Message, Does.Contain("403"));
        var metrics = await MetricsSnapshot.ScrapeAsync(_cluster[0]);
        Assert.That(metrics["sfu_cluster_inbound_relays_total{result=\"forged\"}"], Is.EqualTo(1));
    }

    [Test]
    public async Task SignedRelayHeaders_MakeTheOwnerCountTheClientsAddress()
    {
        await using var limited = await SfuTestServer.StartAsync(null,
            [.. ClusterTestNodes.Settings(_cluster.Redis, "node-limited"), "Sfu:Signaling:MaxSocketsPerIp=1"]);
        var genuine = new RelayCredentials(ClusterTestNodes.Secret, TimeProvider.System);
        using var first = await ConnectWithAsync(limited, genuine.Create("node-b", "203.0.113.7"));
        // A second socket "from" the same client is over its limit, though it comes from the same relay address...
        var second = Assert.ThrowsAsync<WebSocketException>(() => ConnectWithAsync(limited, genuine.Create("node-b", "203.0.113.7")));
        Assert.That(second!.Message, Does.Contain("429"));
        // ...while another client behind the same relay is not.
        using var other = await ConnectWithAsync(limited, genuine.Create("node-b", "203.0.113.8"));
        Assert.That(other.State, Is.EqualTo(WebSocketState.Open));
    }

    private static async Task<ClientWebSocket> ConnectWithAsync(SfuTestServer node, IEnumerable<KeyValuePair<string, string>> headers)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("sfu.v1");
        foreach (var (name, value) in headers) socket.Options.SetRequestHeader(name, value);
        try
        {
            await socket.ConnectAsync(node.WebSocketUri, CancellationToken.None);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
