using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sfu.Signaling.MediaSessions;

namespace Sfu.Tests.EndToEnd;

/// <summary>
/// Real WebRTC media through the server: Chromium's fake camera and microphone published by one page and
/// received by another, over the server's one UDP port.
/// </summary>
[Category("Media")]
public sealed class BrowserMediaTests : BrowserTestBase
{
    // Reads one RTCPeerConnection's stats into plain objects: inbound RTP per kind, and the remote candidates
    // (all of them, and the one of the selected pair).
    private const string StatsScript = """
        async (which) => {
          const pc = which === 'publish' ? window.demo.client.publishConnection : window.demo.client.subscribeConnection;
          if (!pc) return null;
          const stats = [...(await pc.getStats()).values()];
          const byId = new Map(stats.map(s => [s.id, s]));
          const inbound = kind => stats.filter(s => s.type === 'inbound-rtp' && s.kind === kind)
            .map(s => ({ framesDecoded: s.framesDecoded ?? 0, packetsReceived: s.packetsReceived ?? 0, totalSamplesReceived: s.totalSamplesReceived ?? 0 }));
          const transport = stats.find(s => s.type === 'transport' && s.selectedCandidatePairId);
          const pair = transport ? byId.get(transport.selectedCandidatePairId) : stats.find(s => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
          const remote = pair ? byId.get(pair.remoteCandidateId) : null;
          return {
            video: inbound('video'),
            audio: inbound('audio'),
            selectedRemote: remote ? { address: remote.address ?? remote.ip, port: remote.port } : null,
            remotes: stats.filter(s => s.type === 'remote-candidate').map(s => ({ address: s.address ?? s.ip, port: s.port })),
            remoteSdp: pc.remoteDescription?.sdp ?? '',
          };
        }
        """;

    private int _mediaPort;
    // The server's ports: UDP, and ICE-TCP's (the UDP number when free on TCP too, else another the OS picked).
    private int[] _serverPorts = [];

    [SetUp]
    public async Task StartServerWithMediaOnLoopback()
    {
        // The test server's media port is one the OS picked (Port=0) on 127.0.0.1; announce that address too.
        await StartServerAsync("Sfu:Media:AnnouncedAddress=127.0.0.1", "Sfu:Signaling:AllowSimulate=true");
        var worker = Server.MediaWorker;
        _mediaPort = worker.Port;
        _serverPorts = worker.TcpPort is { } tcpPort ? [_mediaPort, tcpPort] : [_mediaPort];
    }

    [Test]
    public async Task PublishedCameraAndMic_AreDecodedByTheSubscriber()
    {
        var (_, bob) = await PublisherAndSubscriberAsync("media-1");

        await bob.WaitForAsync("window.demo.client.subscribeConnection?.connectionState === 'connected'", "bob's subscribe connection");
        var first = await StatsAsync(bob, "subscribe");
        await Task.Delay(1500);
        var second = await StatsAsync(bob, "subscribe");

        Assert.Multiple(() =>
        {
            Assert.That(Sum(second, "video", "framesDecoded"), Is.GreaterThan(Sum(first, "video", "framesDecoded")), "video frames decoded keep increasing");
            Assert.That(Sum(second, "audio", "packetsReceived"), Is.GreaterThan(Sum(first, "audio", "packetsReceived")), "audio packets keep arriving");
            Assert.That(Sum(second, "audio", "totalSamplesReceived"), Is.GreaterThan(Sum(first, "audio", "totalSamplesReceived")), "audio samples keep arriving");
        });
        var tracks = await bob.EventsAsync("track");
        var alicePeerId = await bob.EvaluateAsync<string>("() => window.demo.client.peers[0].peerId");
        Assert.That(tracks.Select(t => t.GetProperty("kind").GetString()), Is.EquivalentTo(new[] { "audio", "video" }));
        Assert.That(tracks.Select(t => t.GetProperty("peerId").GetString()), Is.All.EqualTo(alicePeerId), "each remote track is attributed to its publisher");
    }

    [Test]
    public async Task EveryIcePath_EndsAtTheServersPort_NeverAtTheOtherBrowser()
    {
        var (alice, bob) = await PublisherAndSubscriberAsync("media-2");
        await alice.WaitForAsync("window.demo.client.publishConnection?.connectionState === 'connected'", "alice's publish connection");
        await bob.WaitForAsync("window.demo.client.subscribeConnection?.connectionState === 'connected'", "bob's subscribe connection");

        foreach (var (page, which) in new[] { (alice, "publish"), (bob, "subscribe") })
        {
            var stats = await StatsAsync(page, which);
            var selected = stats.GetProperty("selectedRemote");
            Assert.That(selected.ValueKind, Is.EqualTo(JsonValueKind.Object), $"{page.Label}'s {which} connection has a selected candidate pair");
            Assert.That(selected.GetProperty("port").GetInt32(), Is.EqualTo(_mediaPort), $"{page.Label}'s {which} path ends at the server's UDP port");
            Assert.That(stats.GetProperty("remotes").EnumerateArray().Select(r => r.GetProperty("port").GetInt32()), Is.All.AnyOf(_serverPorts.Cast<object>().ToArray()),
                $"{page.Label} knows no remote candidate but the server's");
            var candidateLines = stats.GetProperty("remoteSdp").GetString()!.Split('\n').Where(l => l.StartsWith("a=candidate:", StringComparison.Ordinal)).ToList();
            Assert.That(candidateLines, Is.Not.Empty, $"{page.Label}'s remote description has candidates");
            Assert.That(candidateLines.Where(l => !_serverPorts.Any(port => l.Contains($" 127.0.0.1 {port} ", StringComparison.Ordinal))), Is.Empty,
                $"{page.Label}'s remote description offers only the server");
        }
    }

    [Test]
    public async Task RestartIce_OnBothConnections_TakesNewCredentials_AndVideoKeepsFlowing()
    {
        // Bob is there first, so his tracks arrive by a renegotiation of a subscribe connection that already runs.
        var (alice, bob) = await PublisherAndSubscriberAsync("media-3", subscriberFirst: true);
        await bob.WaitForAsync("window.demo.client.subscribeConnection?.connectionState === 'connected'", "bob's subscribe connection");
        var publishUfrag = await RemoteUfragAsync(alice, "publish");
        var subscribeUfrag = await RemoteUfragAsync(bob, "subscribe");

        await alice.CallAsync("window.demo.client.restartIce()");
        await bob.CallAsync("window.demo.client.restartIce()");

        Assert.That(await RemoteUfragAsync(alice, "publish"), Is.Not.EqualTo(publishUfrag), "the publish answer carries new ICE credentials");
        Assert.That(await RemoteUfragAsync(bob, "subscribe"), Is.Not.EqualTo(subscribeUfrag), "the new subscribe offer carries new ICE credentials");
        await AssertVideoFlowsAsync(bob);
    }

    [Test]
    public async Task DroppedSignaling_DoesNotStopMedia()
    {
        var (alice, bob) = await PublisherAndSubscriberAsync("media-4");
        await bob.WaitForAsync("window.demo.client.subscribeConnection?.connectionState === 'connected'", "bob's subscribe connection");

        await alice.CallAsync("window.demo.client.simulate('drop-signal')");
        await alice.WaitForStateAsync("connected", "rejoin-success");

        await AssertVideoFlowsAsync(bob);
        Assert.That(await alice.EvaluateAsync<string>("() => window.demo.client.publishConnection.connectionState"), Is.EqualTo("connected"));
    }

    [Test]
    public async Task SubscriberWhoseSignalingTheServerCuts_RestartsIce_KeepsDecoding_AndThePublisherNeverSeesPeerLeft()
    {
        var (alice, bob) = await PublisherAndSubscriberAsync("media-5");
        await bob.WaitForAsync("window.demo.client.subscribeConnection?.connectionState === 'connected'", "bob's subscribe connection");
        var subscribeUfrag = await RemoteUfragAsync(bob, "subscribe");

        // The server drops bob's socket without a close frame; his SDK resumes, then restarts ICE as a client
        // that changed networks would.
        await bob.CallAsync("window.demo.client.simulate('drop-signal')");
        await bob.WaitForStateAsync("connected", "rejoin-success");
        await bob.CallAsync("window.demo.client.restartIce()");

        Assert.That(await RemoteUfragAsync(bob, "subscribe"), Is.Not.EqualTo(subscribeUfrag), "a new subscribe offer with fresh credentials");
        await AssertVideoFlowsAsync(bob);
        Assert.That(await alice.EventsAsync("peer-left"), Is.Empty, "the publisher never saw bob leave");
    }

    [Test]
    public async Task AfterTheOnlyPublisherLeaves_ALaterPublisherStillReachesTheOneWhoStayed()
    {
        var (alice, bob) = await PublisherAndSubscriberAsync("media-6");
        await bob.WaitForAsync("window.demo.client.subscribeConnection?.connectionState === 'connected'", "bob's subscribe connection");

        // The offer that closes alice's lines leaves bob nothing to receive; Chromium (max-bundle) must still accept it.
        await alice.CallAsync("window.demo.client.leave()");
        await bob.WaitForEventAsync("peer-left", "true", "alice's departure");
        var carol = await OpenAsync("carol", "media-6", publish: true);
        await carol.WaitForEventAsync("published", "true", "carol's publish");

        await bob.WaitForAsync("window.demo.events.filter(e => e.name === 'track').length >= 4", "carol's two tracks at bob");
        await AssertVideoFlowsAsync(bob);
        Assert.That(await bob.EventsAsync("error"), Is.Empty, "no negotiation failed on the way");
    }

    /// <summary>Alice publishes the fake camera and microphone; bob receives them (joining after her, unless told).</summary>
    private async Task<(SdkPage Alice, SdkPage Bob)> PublisherAndSubscriberAsync(string room, bool subscriberFirst = false)
    {
        SdkPage? bob = null;
        if (subscriberFirst)
        {
            bob = await OpenAsync("bob", room);
            await bob.WaitForStateAsync("connected");
        }
        var alice = await OpenAsync("alice", room, publish: true);
        await alice.WaitForEventAsync("published", "true", "alice's publish");
        bob ??= await OpenAsync("bob", room);
        await bob.WaitForStateAsync("connected");
        await bob.WaitForAsync("window.demo.events.filter(e => e.name === 'track').length >= 2", "bob's two remote tracks");
        return (alice, bob);
    }

    private static async Task AssertVideoFlowsAsync(SdkPage page)
    {
        var before = Sum(await StatsAsync(page, "subscribe"), "video", "framesDecoded");
        var deadline = DateTime.UtcNow + SdkPage.DefaultWait;
        long now;
        do
        {
            await Task.Delay(200);
            now = Sum(await StatsAsync(page, "subscribe"), "video", "framesDecoded");
        }
        while (now < before + 10 && DateTime.UtcNow < deadline);
        Assert.That(now, Is.GreaterThanOrEqualTo(before + 10), $"{page.Label} decodes new video frames");
    }

    private static Task<string> RemoteUfragAsync(SdkPage page, string which) =>
        page.EvaluateAsync<string>(
            $"() => (window.demo.client.{which}Connection.remoteDescription.sdp.match(/a=ice-ufrag:(\\S+)/) ?? [])[1]");

    private static async Task<JsonElement> StatsAsync(SdkPage page, string which)
    {
        var stats = await page.Page.EvaluateAsync<JsonElement>(StatsScript, which);
        Assert.That(stats.ValueKind, Is.EqualTo(JsonValueKind.Object), $"{page.Label} has a {which} connection");
        return stats;
    }

    private static long Sum(JsonElement stats, string kind, string field) =>
        stats.GetProperty(kind).EnumerateArray().Sum(s => s.GetProperty(field).GetInt64());
}
