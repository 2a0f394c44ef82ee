using System.Text.Json;
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

        await bob.CallAsync("window.demo.client.leave()");

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
        await alice.CallAsync("window.demo.client.simulate('drop-signal')");

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

    [Test]
    public async Task RequestLostWithTheSocket_IsRepeatedAfterResume_WithTheSameId()
    {
        await StartServerAsync();
        SignalingTap? tap = null;
        var alice = await OpenAsync("alice", "room-3", beforeLoad: async page => tap = await SignalingTap.InstallAsync(page));
        await alice.WaitForStateAsync("connected");
        var sessionId = await alice.SessionIdAsync();
        tap!.LoseFromPage = m => m.GetProperty("type").GetString() == "candidate";

        await alice.EvaluateAsync<object?>(
            "() => { window.lostRequest = window.demo.client.request('candidate', { transport: 'publish', candidate: { candidate: '', sdpMid: '0' } }); }");
        await WaitUntilAsync(() => tap.Sent.Any(s => IsCandidate(s.Message)), "the page to send the request");
        tap.LoseFromPage = _ => false;
        await tap.CutAsync();

        await alice.WaitForStateAsync("connected", "rejoin-success");
        var response = (await alice.CallAsync("window.lostRequest"))!.Value;
        Assert.That(response.GetProperty("ok").GetBoolean(), Is.True);
        var sends = tap.Sent.Where(s => IsCandidate(s.Message)).ToList();
        Assert.That(sends.Select(s => s.Socket), Is.EqualTo(new[] { 1, 2 }), "sent on the first socket, lost, then again on the resumed one");
        Assert.That(sends[1].Message.GetProperty("id").GetInt64(), Is.EqualTo(sends[0].Message.GetProperty("id").GetInt64()));
        Assert.That(response.GetProperty("id").GetInt64(), Is.EqualTo(sends[0].Message.GetProperty("id").GetInt64()));
        var secondSocket = tap.Sent.Where(s => s.Socket == 2).Select(s => s.Message.GetProperty("type").GetString()).ToList();
        Assert.That(secondSocket[0], Is.EqualTo("resume"), "a resume, not a new join, opens the new socket");
        Assert.That(await alice.SessionIdAsync(), Is.EqualTo(sessionId));
    }

    [Test]
    public async Task ServerMessagesDeliveredTwice_AreHandledOnce()
    {
        await StartServerAsync();
        SignalingTap? tap = null;
        var alice = await OpenAsync("alice", "room-4", beforeLoad: async page => tap = await SignalingTap.InstallAsync(page));
        await alice.WaitForStateAsync("connected");
        tap!.RepeatFromServer = true;

        var bob = await OpenAsync("bob", "room-4");
        await bob.WaitForStateAsync("connected");
        await alice.WaitForEventAsync("peer-joined", "true", "bob's peer-joined");
        await bob.CallAsync("window.demo.client.leave()");
        await alice.WaitForEventAsync("peer-left", "true", "bob's peer-left");
        // Let any repeat of peer-left arrive before counting.
        var seq = await alice.EvaluateAsync<long>("() => window.demo.client.lastSeq");
        await alice.WaitForAsync($"window.demo.client.lastSeq > {seq}", "the answer to a later ping");

        Assert.That(await alice.EventsAsync("peer-joined"), Has.Count.EqualTo(1));
        Assert.That(await alice.EventsAsync("peer-left"), Has.Count.EqualTo(1));
        Assert.That(await alice.EvaluateAsync<string>("() => window.demo.client.state"), Is.EqualTo("connected"));
    }

    private static bool IsCandidate(JsonElement message) => message.GetProperty("type").GetString() == "candidate";

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + SdkPage.DefaultWait;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }
}
