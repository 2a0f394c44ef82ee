using System.Net.WebSockets;
using System.Text.Json;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Signaling;

/// <summary>The v1 envelope, join and the basic requests, against the real server over real WebSockets.</summary>
public sealed class JoinAndEnvelopeTests : ServerTest
{
    [Test]
    public async Task Join_ReturnsSessionResumeTokenTimingAndSeqOne()
    {
        await using var client = await Server.ConnectAsync();
        var join = await client.RequestAsync(new { type = "join", room = "r1", name = "alice" });

        Assert.Multiple(() =>
        {
            Assert.That(client.SubProtocol, Is.EqualTo("sfu.v1"));
            Assert.That(join.Ok(), Is.True);
            Assert.That(join.Seq(), Is.EqualTo(1));
            Assert.That(join.Str("sessionId"), Is.Not.Empty);
            Assert.That(join.Str("resumeToken"), Has.Length.GreaterThanOrEqualTo(40));
            Assert.That(join.Str("peerId"), Is.Not.Empty);
            Assert.That(join.GetProperty("room").Str("id"), Is.EqualTo("r1"));
            Assert.That(join.GetProperty("room").GetProperty("peers").GetArrayLength(), Is.Zero);
            var timing = join.GetProperty("timing");
            Assert.That(timing.GetProperty("interruptedAfterMs").GetInt32(), Is.EqualTo(4000));
            Assert.That(timing.GetProperty("offlineAfterMs").GetInt32(), Is.EqualTo(20000));
            Assert.That(timing.GetProperty("emptyRoomCloseMs").GetInt32(), Is.EqualTo(10000));
            Assert.That(timing.GetProperty("pingIntervalMs").GetInt32(), Is.GreaterThan(0));
        });
    }

    [Test]
    public async Task SecondJoin_ListsFirstPeer_AndFirstPeerGetsPeerJoined()
    {
        var (alice, aliceJoin) = await Server.JoinAsync("r1", "alice");
        var (bob, bobJoin) = await Server.JoinAsync("r1", "bob");
        await using var _ = alice;
        await using var __ = bob;

        var peers = bobJoin.GetProperty("room").GetProperty("peers");
        var joined = await alice.NextEventAsync("peer-joined");
        Assert.Multiple(() =>
        {
            Assert.That(peers.GetArrayLength(), Is.EqualTo(1));
            Assert.That(peers[0].Str("peerId"), Is.EqualTo(aliceJoin.Str("peerId")));
            Assert.That(peers[0].Str("name"), Is.EqualTo("alice"));
            Assert.That(joined.GetProperty("peer").Str("peerId"), Is.EqualTo(bobJoin.Str("peerId")));
            Assert.That(joined.GetProperty("peer").Str("name"), Is.EqualTo("bob"));
            Assert.That(joined.Seq(), Is.EqualTo(2), "the event follows alice's join response");
        });
    }

    [Test]
    public async Task Seq_IsSharedByResponsesAndEvents_AndIncreasesByOne()
    {
        var (alice, _) = await Server.JoinAsync("r1");
        await using var __ = alice;
        await alice.RequestAsync(new { type = "ping" });
        var (bob, _) = await Server.JoinAsync("r1");
        await using var ___ = bob;
        await alice.NextEventAsync("peer-joined");
        await alice.RequestAsync(new { type = "ping" });

        var seqs = alice.History.Select(m => m.Seq()).ToArray();
        Assert.That(seqs, Is.EqualTo(new long?[] { 1, 2, 3, 4 }));
    }

    [Test]
    public async Task RequestBeforeJoin_IsNotJoined_WithoutSeq()
    {
        await using var client = await Server.ConnectAsync();
        var response = await client.RequestAsync(new { type = "ping" });
        Assert.Multiple(() =>
        {
            Assert.That(response.ErrorCode(), Is.EqualTo("not_joined"));
            Assert.That(response.Seq(), Is.Null);
        });
    }

    [Test]
    public async Task JoinTwice_IsAlreadyJoined()
    {
        var (client, _) = await Server.JoinAsync("r1");
        await using var _ = client;
        var again = await client.RequestAsync(new { type = "join", room = "r2" });
        Assert.That(again.ErrorCode(), Is.EqualTo("already_joined"));
    }

    [Test]
    public async Task UnknownType_IsUnknownType_AndSessionContinues()
    {
        var (client, _) = await Server.JoinAsync("r1");
        await using var _ = client;
        var response = await client.RequestAsync(new { type = "teleport" });
        var ping = await client.RequestAsync(new { type = "ping" });
        Assert.Multiple(() =>
        {
            Assert.That(response.ErrorCode(), Is.EqualTo("unknown_type"));
            Assert.That(response.Seq(), Is.EqualTo(2), "errors after join are numbered like every message");
            Assert.That(ping.Ok(), Is.True);
        });
    }

    [TestCase("{not json", TestName = "MalformedJson_IsBadRequestWithNullId(broken)")]
    [TestCase("[1,2,3]", TestName = "MalformedJson_IsBadRequestWithNullId(array)")]
    [TestCase("{\"type\":\"ping\"}", TestName = "MalformedJson_IsBadRequestWithNullId(no id)")]
    [TestCase("{\"id\":{},\"type\":\"ping\"}", TestName = "MalformedJson_IsBadRequestWithNullId(object id)")]
    public async Task MalformedMessage_IsBadRequestWithNullId(string text)
    {
        await using var client = await Server.ConnectAsync();
        await client.SendTextAsync(text);
        var response = await client.NextAsync();
        Assert.Multiple(() =>
        {
            Assert.That(response.ErrorCode(), Is.EqualTo("bad_request"));
            Assert.That(response.GetProperty("id").ValueKind, Is.EqualTo(JsonValueKind.Null));
        });
    }

    [Test]
    public async Task MissingField_IsBadRequestNamingTheField()
    {
        await using var client = await Server.ConnectAsync();
        var response = await client.RequestAsync(new { type = "join" });
        Assert.Multiple(() =>
        {
            Assert.That(response.ErrorCode(), Is.EqualTo("bad_request"));
            Assert.That(response.GetProperty("error").Str("message"), Does.Contain("'room'"));
        });
    }

    [Test]
    public async Task BinaryFrame_IsBadRequest_AndSocketStaysUsable()
    {
        var (client, _) = await Server.JoinAsync("r1");
        await using var _ = client;
        await client.SendBytesAsync([1, 2, 3], WebSocketMessageType.Binary);
        var error = await client.NextAsync();
        var ping = await client.RequestAsync(new { type = "ping" });
        Assert.Multiple(() =>
        {
            Assert.That(error.ErrorCode(), Is.EqualTo("bad_request"));
            Assert.That(ping.Ok(), Is.True);
        });
    }

    [Test]
    public async Task OversizedMessage_IsTooLarge_AndSocketStaysUsable()
    {
        var (client, _) = await Server.JoinAsync("r1");
        await using var _ = client;
        var huge = "{\"id\":1,\"type\":\"ping\",\"pad\":\"" + new string('x', 70 * 1024) + "\"}";
        await client.SendTextAsync(huge);
        var error = await client.NextAsync();
        var ping = await client.RequestAsync(new { type = "ping" });
        Assert.Multiple(() =>
        {
            Assert.That(error.ErrorCode(), Is.EqualTo("too_large"));
            Assert.That(ping.Ok(), Is.True);
        });
    }

    [Test]
    public async Task MessageJustUnderLimit_IsAccepted()
    {
        var (client, _) = await Server.JoinAsync("r1");
        await using var _ = client;
        var text = "{\"id\":77,\"type\":\"ping\",\"pad\":\"";
        text += new string('x', 64 * 1024 - text.Length - 2) + "\"}";
        Assert.That(text, Has.Length.EqualTo(64 * 1024));
        await client.SendTextAsync(text);
        var response = await client.TakeAsync(m => TestClient.IsResponseTo(m, 77), "ping response");
        Assert.That(response.Ok(), Is.True);
    }

    [Test]
    public async Task RepeatedRequestId_GetsStoredResponseWithOriginalSeq_AndIsNotExecutedAgain()
    {
        var (alice, _) = await Server.JoinAsync("r1");
        var (bob, _) = await Server.JoinAsync("r1");
        await using var _ = alice;
        await using var __ = bob;
        await bob.SendTextAsync("{\"id\":\"x-1\",\"type\":\"leave\"}");
        var first = await bob.NextAsync();
        await alice.NextEventAsync("peer-joined");
        var left = await alice.NextEventAsync("peer-left");
        Assert.Multiple(() =>
        {
            Assert.That(first.Ok(), Is.True);
            Assert.That(first.Seq(), Is.EqualTo(2));
            Assert.That(left.Str("reason"), Is.EqualTo("leave"));
        });

        // Same id again on a live session: the stored response comes back, the request does not run twice.
        var (carol, _) = await Server.JoinAsync("r1");
        await using var ___ = carol;
        await carol.SendTextAsync("{\"id\":5,\"type\":\"ping\"}");
        var ping1 = await carol.NextAsync();
        await carol.SendTextAsync("{\"id\":5,\"type\":\"ping\"}");
        var ping2 = await carol.NextAsync();
        var after = await carol.RequestAsync(new { type = "ping" });
        Assert.Multiple(() =>
        {
            Assert.That(ping2.GetRawText(), Is.EqualTo(ping1.GetRawText()));
            Assert.That(after.Seq(), Is.EqualTo(ping1.Seq() + 1), "the repeat consumed no seq");
        });
    }

    [Test]
    public async Task Leave_AnswersThenClosesWith1000_AndOthersSeePeerLeft()
    {
        var (alice, _) = await Server.JoinAsync("r1");
        var (bob, bobJoin) = await Server.JoinAsync("r1");
        await using var _ = alice;
        await using var __ = bob;
        var response = await bob.RequestAsync(new { type = "leave" });
        var left = await alice.NextEventAsync("peer-left");
        Assert.Multiple(async () =>
        {
            Assert.That(response.Ok(), Is.True);
            Assert.That(await bob.Closed, Is.EqualTo(WebSocketCloseStatus.NormalClosure));
            Assert.That(left.Str("peerId"), Is.EqualTo(bobJoin.Str("peerId")));
            Assert.That(left.Str("reason"), Is.EqualTo("leave"));
        });
    }

    [Test]
    public async Task ClientCloseWith1000_CountsAsLeave()
    {
        var (alice, _) = await Server.JoinAsync("r1");
        var (bob, _) = await Server.JoinAsync("r1");
        await using var _ = alice;
        await using var __ = bob;
        await bob.CloseAsync();
        var left = await alice.NextEventAsync("peer-left");
        Assert.That(left.Str("reason"), Is.EqualTo("leave"));
    }

    [Test]
    public async Task HttpRequestToWs_IsRejectedWith400()
    {
        using var http = new HttpClient { BaseAddress = Server.HttpBase };
        var response = await http.GetAsync("/ws");
        Assert.That((int)response.StatusCode, Is.EqualTo(400));
    }
}
