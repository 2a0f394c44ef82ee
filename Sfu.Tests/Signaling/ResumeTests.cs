using System.Net.WebSockets;
using System.Text.Json;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Signaling;

/// <summary>
/// Sessions outlive sockets. The first test is the seed scenario: the Janus bug where, after a reconnect,
/// responses went to the new socket and events to the dead old one.
/// </summary>
public sealed class ResumeTests : ServerTest
{
    [Test]
    public async Task Resume_FromAnotherEndpoint_ReplaysExactlyTheMissedMessagesInOrder_AndOldSocketGetsNothingMore()
    {
        await using var socketA = await Server.ConnectAsync("127.0.0.1");
        var join = await socketA.RequestAsync(new { type = "join", room = "seed", name = "phone", autoSubscribe = false });
        var lastSeqSeenByPhone = join.Seq()!.Value;

        // The phone's network goes away: socket A stays open (no close frame) but the phone hears nothing more.
        // Meanwhile the room changes: two peers join and one leaves.
        var (bob, _) = await Server.JoinAsync("seed", "bob");
        var (carol, carolJoin) = await Server.JoinAsync("seed", "carol");
        await using var __ = bob;
        await carol.RequestAsync(new { type = "leave" });
        await carol.Closed;
        var missed = new[] { "peer-joined", "peer-joined", "peer-left" };
        for (var i = 0; i < missed.Length; i++) await socketA.NextEventAsync(missed[i]);
        var sentToAOnResume = socketA.History.Count;

        // The phone comes back on socket B, from another local address, and resumes with what it last saw.
        await using var socketB = await Server.ConnectAsync(localAddress: "127.0.0.2");
        var resume = await socketB.RequestAsync(new
        {
            type = "resume", sessionId = join.Str("sessionId"), resumeToken = join.Str("resumeToken"), lastSeq = lastSeqSeenByPhone,
        });
        var replayed = new List<JsonElement>();
        for (var i = 0; i < missed.Length; i++) replayed.Add(await socketB.NextAsync());

        Assert.Multiple(() =>
        {
            Assert.That(resume.Ok(), Is.True);
            Assert.That(resume.Seq(), Is.Null, "the resume response belongs to the socket, not the session stream");
            Assert.That(resume.Str("peerId"), Is.EqualTo(join.Str("peerId")));
            Assert.That(resume.GetProperty("replayed").GetInt32(), Is.EqualTo(3));
            Assert.That(replayed.Select(m => m.Event()), Is.EqualTo(missed));
            Assert.That(replayed.Select(m => m.Seq()), Is.EqualTo(new long?[] { 2, 3, 4 }), "no gap, no duplicate");
            Assert.That(replayed[2].Str("peerId"), Is.EqualTo(carolJoin.Str("peerId")));
        });

        // A request on B whose effect reaches the client later: bob publishes, the phone subscribes to his track on
        // B; the response and the subscribe-offer that follows arrive on B, numbered on, and nothing on A.
        var published = await bob.RequestAsync(new { type = "publish", sdp = Media.Sdp.SdpFixtures.Load(Media.Sdp.SdpFixtures.ChromeSendOnly) });
        Assert.That(published.Ok(), Is.True, published.ToString());
        var audioPublished = await socketB.NextEventAsync("track-published");
        var videoPublished = await socketB.NextEventAsync("track-published");
        Assert.That(videoPublished.GetProperty("track").Str("kind"), Is.EqualTo("video"));
        var trackId = videoPublished.GetProperty("track").Str("trackId");
        var subscribed = await socketB.RequestAsync(new { type = "subscribe", trackIds = new[] { trackId } });
        var offer = await socketB.NextEventAsync("subscribe-offer");
        var (dave, _) = await Server.JoinAsync("seed", "dave");
        await using var ___ = dave;
        var daveJoined = await socketB.NextEventAsync("peer-joined");

        Assert.Multiple(async () =>
        {
            Assert.That(subscribed.Ok(), Is.True, subscribed.ToString());
            Assert.That(new[] { audioPublished.Seq(), videoPublished.Seq(), subscribed.Seq(), offer.Seq(), daveJoined.Seq() },
                Is.EqualTo(new long?[] { 5, 6, 7, 8, 9 }),
                "everything after the resume continues the same numbering, on B: the response, then the offer it caused");
            Assert.That(offer.Str("sdp"), Does.Contain("m=video"));
            Assert.That(await socketA.Closed, Is.EqualTo((WebSocketCloseStatus)4001), "the old socket is told it was superseded");
            Assert.That(socketA.History, Has.Count.EqualTo(sentToAOnResume), "nothing was written to A after the resume");
        });
    }

    [Test]
    public async Task Resume_AfterSocketDropped_GetsEventsThatHappenedWhileAway()
    {
        var (observer, _) = await Server.JoinAsync("r");
        var (phone, join) = await Server.JoinAsync("r");
        await using var _ = observer;
        phone.Abort();

        var (other, _) = await Server.JoinAsync("r");
        await using var __ = other;

        await using var back = await Server.ConnectAsync();
        var resume = await back.RequestAsync(new
        {
            type = "resume", sessionId = join.Str("sessionId"), resumeToken = join.Str("resumeToken"), lastSeq = 1,
        });
        var replayed = await back.NextAsync();
        Assert.Multiple(() =>
        {
            Assert.That(resume.GetProperty("replayed").GetInt32(), Is.EqualTo(1));
            Assert.That(replayed.Event(), Is.EqualTo("peer-joined"));
            Assert.That(replayed.Seq(), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task RepeatedRequestAfterResume_GetsItsOriginalResponse_NotASecondExecution()
    {
        var (phone, join) = await Server.JoinAsync("r");
        await phone.SendTextAsync("{\"id\":\"p-1\",\"type\":\"ping\"}");
        var original = await phone.NextAsync();
        phone.Abort();

        // The client never saw p-1's answer (it resumes from seq 1), so it repeats the request after resuming.
        await using var back = await Server.ConnectAsync();
        await back.RequestAsync(new
        {
            type = "resume", sessionId = join.Str("sessionId"), resumeToken = join.Str("resumeToken"), lastSeq = 1,
        });
        var replayed = await back.NextAsync();
        await back.SendTextAsync("{\"id\":\"p-1\",\"type\":\"ping\"}");
        var repeated = await back.NextAsync();
        var next = await back.RequestAsync(new { type = "ping" });
        Assert.Multiple(() =>
        {
            Assert.That(replayed.GetRawText(), Is.EqualTo(original.GetRawText()), "the missed answer is replayed");
            Assert.That(repeated.GetRawText(), Is.EqualTo(original.GetRawText()), "the repeat gets the stored answer, same seq");
            Assert.That(next.Seq(), Is.EqualTo(original.Seq() + 1), "nothing was executed twice");
        });
    }

    [TestCase("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", TestName = "Resume_WithWrongToken_IsBadResumeToken_Closes4003_AndSessionIsUntouched")]
    [TestCase("not base64url!*", TestName = "Resume_WithTokenThatIsNotBase64Url_IsBadResumeToken_Closes4003")]
    [TestCase("", TestName = "Resume_WithEmptyToken_IsBadResumeToken_Closes4003")]
    [TestCase("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB",
        TestName = "Resume_WithOverlongToken_IsBadResumeToken_Closes4003")]
    public async Task Resume_WithWrongToken(string resumeToken)
    {
        var (phone, join) = await Server.JoinAsync("r");
        await using var _ = phone;
        await using var attacker = await Server.ConnectAsync();
        var response = await attacker.RequestAsync(new
        {
            type = "resume", sessionId = join.Str("sessionId"), resumeToken, lastSeq = 0,
        });
        var ping = await phone.RequestAsync(new { type = "ping" });
        Assert.Multiple(async () =>
        {
            Assert.That(response.ErrorCode(), Is.EqualTo("bad_resume_token"));
            Assert.That(await attacker.Closed, Is.EqualTo((WebSocketCloseStatus)4003));
            Assert.That(ping.Ok(), Is.True, "the real client keeps its socket");
        });
    }

    [Test]
    public async Task Resume_OfUnknownSession_IsSessionExpired_Closes4004()
    {
        await using var client = await Server.ConnectAsync();
        var response = await client.RequestAsync(new { type = "resume", sessionId = "nope", resumeToken = "nope", lastSeq = 0 });
        Assert.Multiple(async () =>
        {
            Assert.That(response.ErrorCode(), Is.EqualTo("session_expired"));
            Assert.That(response.Seq(), Is.Null);
            Assert.That(await client.Closed, Is.EqualTo((WebSocketCloseStatus)4004));
        });
    }

    [Test]
    public async Task Resume_WithLastSeqBeyondTheStream_IsBadRequest()
    {
        var (phone, join) = await Server.JoinAsync("r");
        await using var _ = phone;
        await using var back = await Server.ConnectAsync();
        var response = await back.RequestAsync(new
        {
            type = "resume", sessionId = join.Str("sessionId"), resumeToken = join.Str("resumeToken"), lastSeq = 99,
        });
        Assert.That(response.ErrorCode(), Is.EqualTo("bad_request"));
    }

    [Test]
    public async Task Resume_WhenReplayLogOverflowed_IsSessionExpired_AndPeerIsRemoved()
    {
        await Server.DisposeAsync();
        Server = await SfuTestServer.StartAsync(null, "Sfu:Signaling:ReplayLogCapacity=2");
        var (observer, _) = await Server.JoinAsync("r");
        var (phone, join) = await Server.JoinAsync("r");
        await using var _ = observer;
        phone.Abort();
        for (var i = 0; i < 3; i++)
        {
            var (c, _) = await Server.JoinAsync("r");
            await c.RequestAsync(new { type = "leave" });
            await c.DisposeAsync();
        }

        await using var back = await Server.ConnectAsync();
        var response = await back.RequestAsync(new
        {
            type = "resume", sessionId = join.Str("sessionId"), resumeToken = join.Str("resumeToken"), lastSeq = 1,
        });
        var left = await observer.TakeAsync(m => m.Event() == "peer-left" && m.Str("peerId") == join.Str("peerId"), "peer-left of the phone");
        Assert.Multiple(() =>
        {
            Assert.That(response.ErrorCode(), Is.EqualTo("session_expired"));
            Assert.That(left.Str("reason"), Is.EqualTo("timeout"));
        });
    }

    [Test]
    public async Task SimulateDropSignal_IsForbiddenByDefault()
    {
        var (client, _) = await Server.JoinAsync("r");
        await using var _ = client;
        var response = await client.RequestAsync(new { type = "simulate", scenario = "drop-signal" });
        Assert.That(response.ErrorCode(), Is.EqualTo("forbidden"));
    }

    [Test]
    public async Task SimulateDropSignal_WhenEnabled_DropsTheSocketWithoutCloseFrame_AndResumeRecovers()
    {
        await Server.DisposeAsync();
        Server = await SfuTestServer.StartAsync(null, "Sfu:Signaling:AllowSimulate=true");
        var (client, join) = await Server.JoinAsync("r");
        await client.SendTextAsync("{\"id\":9,\"type\":\"simulate\",\"scenario\":\"drop-signal\"}");
        Assert.That(await client.Closed, Is.Null, "no close frame: the connection just broke");

        await using var back = await Server.ConnectAsync();
        var resume = await back.RequestAsync(new
        {
            type = "resume", sessionId = join.Str("sessionId"), resumeToken = join.Str("resumeToken"), lastSeq = 1,
        });
        var simulateResponse = await back.NextAsync();
        Assert.Multiple(() =>
        {
            Assert.That(resume.Ok(), Is.True);
            Assert.That(TestClient.IsResponseTo(simulateResponse, 9), Is.True, "the response is replayed if the drop beat it");
            Assert.That(simulateResponse.Seq(), Is.EqualTo(2));
        });
    }
}
