using static Sfu.Tests.EndToEnd.SdkPage;

namespace Sfu.Tests.EndToEnd;

/// <summary>The browser SDK (clients/browser/sfu-client.js) against the real server, in Chromium.</summary>
public sealed class BrowserSignalingTests : BrowserTestBase
{
    [Test]
    public async Task TwoPages_SeeEachOther_AndTheOtherSeesLeaveWithReasonLeave()
    {
        await StartServerAsync();
        var alice = await OpenAsync("alice", "room-1");
        await alice.WaitForStateAsync("connected");
        var bob = await OpenAsync("bob", "room-1");
        await bob.WaitForStateAsync("connected");
        var aliceId = await alice.PeerIdAsync();
        var bobId = await bob.PeerIdAsync();

        await alice.WaitForEventAsync("peer-joined", $"e.detail.peer.peerId === {Js(bobId)} && e.detail.peer.name === 'bob'", "bob's peer-joined");
        var bobSees = await bob.EvaluateAsync<string[]>("() => window.demo.client.peers.map(p => p.peerId)");
        Assert.That(bobSees, Is.EqualTo(new[] { aliceId }), "the join response lists the peers already there");
        Assert.That(await alice.StatesAsync(), Is.EqualTo(new (string, string?)[] { ("connecting", null), ("connected", "join-success") }));

        await bob.EvaluateAsync<object?>("() => window.demo.client.leave()");

        await alice.WaitForEventAsync("peer-left", $"e.detail.peerId === {Js(bobId)} && e.detail.reason === 'leave'", "bob's peer-left (leave)");
        Assert.That((await bob.StatesAsync())[^1], Is.EqualTo(("disconnected", (string?)"leave")));
        Assert.That(await alice.EvaluateAsync<int>("() => window.demo.client.peers.length"), Is.Zero);
    }

    [Test]
    public async Task DroppedSignaling_SdkResumesTheSameSession_AndTheOtherPeerSeesNothing()
    {
        await StartServerAsync("Sfu:Signaling:AllowSimulate=true");
        var alice = await OpenAsync("alice", "room-2");
        await alice.WaitForStateAsync("connected");
        var bob = await OpenAsync("bob", "room-2");
        await bob.WaitForStateAsync("connected");
        await alice.WaitForEventAsync("peer-joined", "true", "bob's peer-joined");
        var peerId = await alice.PeerIdAsync();
        var sessionId = await alice.SessionIdAsync();

        // The server answers, then aborts the socket: the answer may or may not arrive first. Either way the
        // request settles, because an unanswered one is repeated (same id) after the resume.
        await alice.EvaluateAsync<object?>("() => window.demo.client.simulate('drop-signal')");

        await alice.WaitForStateAsync("connected", "rejoin-success");
        Assert.That(await alice.StatesAsync(), Is.EqualTo(new (string, string?)[]
        {
            ("connecting", null), ("connected", "join-success"), ("reconnecting", "interrupted"), ("connected", "rejoin-success"),
        }));
        Assert.That(await alice.PeerIdAsync(), Is.EqualTo(peerId));
        Assert.That(await alice.SessionIdAsync(), Is.EqualTo(sessionId), "resumed, not joined again");
        using (var http = new HttpClient { BaseAddress = Server.HttpBase })
        {
            var metrics = await http.GetStringAsync("/metrics");
            Assert.That(metrics, Does.Contain("sfu_resumes_total{result=\"ok\"} 1"));
        }

        // After the resume, alice's next ping proves the path works end to end; bob must have heard nothing of it.
        var seq = await alice.EvaluateAsync<long>("() => window.demo.client.lastSeq");
        await alice.WaitForAsync($"window.demo.client.lastSeq > {seq}", "a server message after the resume");
        Assert.That(await bob.EventsAsync("peer-left"), Is.Empty);
        Assert.That(await bob.EventsAsync("peer-joined"), Is.Empty, "alice was there before bob: a peer-joined would mean a new peer");
        Assert.That(await bob.EvaluateAsync<string[]>("() => window.demo.client.peers.map(p => p.peerId)"), Is.EqualTo(new[] { peerId }));
        Assert.That((await bob.StatesAsync())[^1], Is.EqualTo(("connected", (string?)"join-success")));
    }
}
