using System.Net.WebSockets;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Signaling;

/// <summary>Limits that protect the server, each with its error, and never at another session's expense.</summary>
public sealed class LimitTests
{
    [Test]
    public async Task FullRoom_IsRoomFull()
    {
        await using var server = await SfuTestServer.StartAsync(null, "Sfu:Signaling:MaxPeersPerRoom=1");
        var (first, _) = await server.JoinAsync("r");
        await using var _ = first;
        await using var second = await server.ConnectAsync();
        var response = await second.RequestAsync(new { type = "join", room = "r" });
        Assert.That(response.ErrorCode(), Is.EqualTo("room_full"));
    }

    [Test]
    public async Task TooManyRooms_IsRoomFull_WithServerMessage()
    {
        await using var server = await SfuTestServer.StartAsync(null, "Sfu:Signaling:MaxRooms=1");
        var (first, _) = await server.JoinAsync("a");
        await using var _ = first;
        await using var second = await server.ConnectAsync();
        var response = await second.RequestAsync(new { type = "join", room = "b" });
        Assert.Multiple(() =>
        {
            Assert.That(response.ErrorCode(), Is.EqualTo("room_full"));
            Assert.That(response.GetProperty("error").Str("message"), Does.Contain("more rooms"));
        });
    }

    [Test]
    public async Task JoinsFromOneAddress_AreRateLimited_OtherAddressesAreNot()
    {
        await using var server = await SfuTestServer.StartAsync(new ManualClock(),
            "Sfu:Signaling:JoinBurstPerIp=2", "Sfu:Signaling:JoinsPerSecondPerIp=1");
        var results = new List<string?>();
        for (var i = 0; i < 3; i++)
        {
            await using var client = await server.ConnectAsync("127.0.0.3");
            results.Add((await client.RequestAsync(new { type = "join", room = "r" })).ErrorCode());
        }
        await using var elsewhere = await server.ConnectAsync("127.0.0.4");
        var other = await elsewhere.RequestAsync(new { type = "join", room = "r" });
        Assert.Multiple(() =>
        {
            Assert.That(results, Is.EqualTo(new string?[] { null, null, "rate_limited" }));
            Assert.That(other.Ok(), Is.True);
        });
    }

    [Test]
    public async Task MessageFlood_IsRateLimited()
    {
        await using var server = await SfuTestServer.StartAsync(new ManualClock(), "Sfu:Signaling:MessagesPerSecondPerSocket=5", "Sfu:Signaling:ViolationBurst=100");
        var (client, _) = await server.JoinAsync("r");
        await using var _ = client;
        for (var i = 0; i < 20; i++) await client.SendTextAsync($"{{\"id\":{i},\"type\":\"ping\"}}");
        var answers = new List<string?>();
        for (var i = 0; i < 20; i++) answers.Add((await client.NextAsync()).ErrorCode());
        Assert.Multiple(() =>
        {
            Assert.That(answers.Count(a => a is null), Is.EqualTo(9), "10 burst tokens, one spent on join");
            Assert.That(answers.Skip(9), Is.All.EqualTo("rate_limited"));
        });
    }

    [Test]
    public async Task SocketThatKeepsSendingGarbage_IsClosedWith4000_OtherSessionsUnaffected_SessionSurvives()
    {
        await using var server = await SfuTestServer.StartAsync(new ManualClock());
        var (bystander, _) = await server.JoinAsync("r");
        var (abuser, join) = await server.JoinAsync("r");
        await using var _ = bystander;
        await using var __ = abuser;
        for (var i = 0; i < 20; i++) await abuser.SendTextAsync("garbage " + i);

        Assert.That(await abuser.Closed, Is.EqualTo((WebSocketCloseStatus)4000));
        var ping = await bystander.RequestAsync(new { type = "ping" });
        Assert.That(ping.Ok(), Is.True);

        // A protocol violation costs the socket, not the session: the client may resume cleanly.
        await using var back = await server.ConnectAsync();
        var resume = await back.RequestAsync(new { type = "resume", sessionId = join.Str("sessionId"), resumeToken = join.Str("resumeToken"), lastSeq = 1 });
        Assert.That(resume.Ok(), Is.True);
    }

    [Test]
    public async Task GarbageBeforeJoin_IsAlsoClosedWith4000()
    {
        await using var server = await SfuTestServer.StartAsync(new ManualClock());
        await using var client = await server.ConnectAsync();
        for (var i = 0; i < 20; i++) await client.SendBytesAsync([0xff, 0xfe], WebSocketMessageType.Binary);
        Assert.That(await client.Closed, Is.EqualTo((WebSocketCloseStatus)4000));
    }
}
