using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Sfu.Signaling.Connections;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Signaling;

/// <summary>
/// What one client (or one address) can hold on the server is bounded: request ids, sockets per address, a socket
/// that never joins, a client that stops reading, and what a long-away client's resume replays.
/// </summary>
public sealed class ConnectionLimitTests
{
    [Test]
    public async Task RequestIdLongerThanTheLimit_IsBadRequest_WithoutAnId_AndTheSessionCarriesOn()
    {
        await using var server = await SfuTestServer.StartAsync();
        var (client, _) = await server.JoinAsync("r");
        await using var _ = client;
        await client.SendAsync(new { id = new string('x', 60_000), type = "ping" });
        var refused = await client.NextAsync();
        var ping = await client.RequestAsync(new { type = "ping" });
        Assert.Multiple(() =>
        {
            Assert.That(refused.ErrorCode(), Is.EqualTo("bad_request"));
            Assert.That(refused.GetProperty("id").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(refused.GetProperty("error").Str("message"), Does.Contain("at most 64 characters"));
            Assert.That(ping.Ok(), Is.True);
        });
    }

    [Test]
    public async Task Resume_AfterMissingMoreMessagesThanTheSocketQueueHolds_ReplaysThemAll()
    {
        // The live socket's queue holds 1024 messages; the client misses more than that before it comes back.
        await using var server = await SfuTestServer.StartAsync(null, "Sfu:Signaling:MessagesPerSecondPerSocket=1000000");
        await using var phone = await server.ConnectAsync();
        var join = await phone.RequestAsync(new { type = "join", room = "r" });
        const int missed = 1500;
        for (var i = 0; i < missed; i++) await phone.RequestAsync(new { type = "ping" });
        phone.Abort();

        await using var back = await server.ConnectAsync();
        var resume = await back.RequestAsync(new
        {
            type = "resume", sessionId = join.Str("sessionId"), resumeToken = join.Str("resumeToken"), lastSeq = join.Seq(),
        });
        var replayed = new List<long?>();
        for (var i = 0; i < missed; i++) replayed.Add((await back.NextAsync()).Seq());
        var ping = await back.RequestAsync(new { type = "ping" });
        Assert.Multiple(() =>
        {
            Assert.That(resume.Ok(), Is.True, resume.ToString());
            Assert.That(resume.GetProperty("replayed").GetInt32(), Is.EqualTo(missed));
            Assert.That(replayed, Is.EqualTo(Enumerable.Range(2, missed).Select(s => (long?)s)), "every missed message, in order");
            Assert.That(ping.Seq(), Is.EqualTo(missed + 2), "and the session carries on live on the new socket");
        });
    }

    [Test]
    public async Task SocketsFromOneAddress_BeyondTheLimit_AreRefusedWith429_AndCounted()
    {
        await using var server = await SfuTestServer.StartAsync(null, "Sfu:Signaling:MaxSocketsPerIp=3");
        var open = new List<TestClient>();
        for (var i = 0; i < 3; i++) open.Add(await server.ConnectAsync("127.0.0.1"));
        using var refused = new ClientWebSocket { Options = { CollectHttpResponseDetails = true } };
        refused.Options.AddSubProtocol("sfu.v1");
        Assert.ThrowsAsync<WebSocketException>(() => refused.ConnectAsync(server.WebSocketUri, CancellationToken.None));
        await using var otherAddress = await server.ConnectAsync("127.0.0.2");
        await open[0].DisposeAsync();
        await Eventually.MetricIsAsync(server, "sfu_sockets", 3);
        await using var again = await server.ConnectAsync("127.0.0.1");
        var metrics = await MetricsSnapshot.ScrapeAsync(server);
        Assert.Multiple(() =>
        {
            Assert.That(refused.HttpStatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
            Assert.That(metrics["sfu_limit_rejections_total{limit=\"sockets\"}"], Is.EqualTo(1));
        });
        foreach (var client in open.Skip(1)) await client.DisposeAsync();
    }

    [Test]
    public async Task SocketThatSendsNothing_IsClosedWith4000_AtTheFirstMessageDeadline()
    {
        var clock = new ManualClock();
        await using var server = await SfuTestServer.StartAsync(clock, "Sfu:Signaling:FirstMessageTimeoutMs=10000");
        await using var silent = await server.ConnectAsync();
        var (joined, _) = await server.JoinAsync("r");
        await using var _ = joined;
        await Eventually.MetricIsAsync(server, "sfu_sockets", 2);

        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.That((await MetricsSnapshot.ScrapeAsync(server))["sfu_limit_rejections_total{limit=\"first-message\"}"], Is.Zero, "not before the deadline");
        clock.Advance(TimeSpan.FromSeconds(1));
        var closed = await silent.Closed.WaitAsync(TestClient.DefaultWait);
        var ping = await joined.RequestAsync(new { type = "ping" });
        var metrics = await MetricsSnapshot.ScrapeAsync(server);
        Assert.Multiple(() =>
        {
            Assert.That(closed, Is.EqualTo((WebSocketCloseStatus)4000));
            Assert.That(ping.Ok(), Is.True, "a joined socket has no such deadline");
            Assert.That(metrics["sfu_limit_rejections_total{limit=\"first-message\"}"], Is.EqualTo(1));
        });
    }

    [Test]
    public async Task ClientThatStopsReading_IsDisconnectedAtTheSendDeadline_AndCanResume()
    {
        var clock = new ManualClock();
        await using var server = await SfuTestServer.StartAsync(clock, "Sfu:Signaling:SendTimeoutMs=10000",
            "Sfu:Signaling:SendQueueMaxBytes=100000000", "Sfu:Signaling:ReplayLogMaxBytes=100000000");
        using var stuck = await RawWebSocketClient.ConnectAsync(server, receiveBufferSize: 2048);
        await stuck.SendTogetherAsync("""{"id":1,"type":"join","room":"r"}""");
        using var joined = JsonDocument.Parse(await stuck.ReadFrameAsync());
        var (sessionId, resumeToken) = (joined.RootElement.Str("sessionId"), joined.RootElement.Str("resumeToken"));
        // From here on the client never reads again.

        // Events pile up towards the stuck client until the kernel's socket buffers are full and a send blocks. No
        // request makes events this large, so they are emitted through the client's session, the path every event takes.
        var peer = server.Services.GetRequiredService<SignalingService>().Rooms.Find("r")!.Peers.Single();
        const int events = 200;
        for (var i = 0; i < events; i++) peer.Outbox.Emit("filler", new JsonObject { ["data"] = new string('x', 50_000) });
        await Task.Delay(500); // the writer is now stuck in a send; real time, since what it waits for is the kernel
        clock.Advance(TimeSpan.FromSeconds(11));
        await Eventually.MetricIsAsync(server, "sfu_sockets", 0);

        await using var back = await server.ConnectAsync();
        var resume = await back.RequestAsync(new { type = "resume", sessionId, resumeToken, lastSeq = 1 });
        var metrics = await MetricsSnapshot.ScrapeAsync(server);
        Assert.Multiple(() =>
        {
            Assert.That(metrics["sfu_limit_rejections_total{limit=\"send-timeout\"}"], Is.EqualTo(1));
            Assert.That(resume.Ok(), Is.True, resume.ToString());
            Assert.That(resume.GetProperty("replayed").GetInt32(), Is.EqualTo(events), "nothing lost with the socket");
        });
    }
}
