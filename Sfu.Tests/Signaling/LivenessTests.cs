using System.Net.WebSockets;
using Sfu.Signaling.Connections;
using Sfu.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Sfu.Tests.Signaling;

/// <summary>
/// The liveness contract on a manual clock: interrupted after 4 s, removed at 20 s, empty rooms closed at 10 s.
/// "Nothing happened" is proven without sleeping: the observer pings, and since a session's messages are
/// ordered, a ping response that arrives first shows no event was queued before it.
/// </summary>
public sealed class LivenessTests
{
    private ManualClock _clock = null!;
    private SfuTestServer _server = null!;

    [SetUp]
    public async Task StartServer()
    {
        _clock = new ManualClock();
        _server = await SfuTestServer.StartAsync(_clock);
    }

    [TearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [Test]
    public async Task SilentPeer_IsInterruptedAtFourSeconds_NotBefore_AndActiveWhenItSpeaksAgain()
    {
        var (observer, _) = await _server.JoinAsync("room");
        var (silent, silentJoin) = await _server.JoinAsync("room");
        await using var _ = observer;
        await using var __ = silent;
        await observer.NextEventAsync("peer-joined");

        await AdvanceAsync(TimeSpan.FromMilliseconds(3999), observer);
        await AssertNothingPendingAsync(observer);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        var interrupted = await observer.NextAsync();
        Assert.Multiple(() =>
        {
            Assert.That(interrupted.Event(), Is.EqualTo("peer-state"));
            Assert.That(interrupted.Str("state"), Is.EqualTo("interrupted"));
            Assert.That(interrupted.Str("peerId"), Is.EqualTo(silentJoin.Str("peerId")));
        });

        await AdvanceAsync(TimeSpan.FromSeconds(3), observer);
        await silent.RequestAsync(new { type = "ping" });
        var active = await observer.NextAsync();
        var metrics = await MetricsSnapshot.ScrapeAsync(_server);
        Assert.Multiple(() =>
        {
            Assert.That(active.Event(), Is.EqualTo("peer-state"));
            Assert.That(active.Str("state"), Is.EqualTo("active"));
            Assert.That(metrics["sfu_peer_outage_seconds_count"], Is.EqualTo(1));
            Assert.That(metrics["sfu_peer_outage_seconds_sum"], Is.EqualTo(7.0), "the outage as the server saw it: 7 s on the manual clock");
        });
    }

    [Test]
    public async Task InterruptedPeer_HeardOnlyThroughMedia_IsActiveAtTheNextSweep_WithItsOutage()
    {
        var (observer, _) = await _server.JoinAsync("room");
        var (silent, silentJoin) = await _server.JoinAsync("room");
        await using var _ = observer;
        await using var __ = silent;
        await observer.NextEventAsync("peer-joined");
        await AdvanceAsync(TimeSpan.FromSeconds(4), observer);
        Assert.That((await observer.NextAsync()).Str("state"), Is.EqualTo("interrupted"));
        await AdvanceAsync(TimeSpan.FromSeconds(2), observer);
        var peer = _server.Services.GetRequiredService<SignalingService>().Rooms.Find("room")!.Peers.Single(p => p.Id == silentJoin.Str("peerId"));

        // What the media worker does for an authenticated packet: a stamp; the room hears of it only through its clock.
        peer.MarkHeard();
        Assert.That(peer.IsInterrupted, Is.True, "the media thread changed no room state");
        await Eventually.HoldsAsync(() =>
        {
            _clock.Advance(TimeSpan.FromMilliseconds(1));
            return Task.FromResult(!peer.IsInterrupted);
        }, "the sweep the stamp asked for");
        var active = await observer.NextAsync();
        var metrics = await MetricsSnapshot.ScrapeAsync(_server);
        Assert.Multiple(() =>
        {
            Assert.That(active.Event(), Is.EqualTo("peer-state"));
            Assert.That(active.Str("state"), Is.EqualTo("active"));
            Assert.That(metrics["sfu_peer_outage_seconds_sum"], Is.EqualTo(6.0), "silent from its join until the media stamp");
        });
        await AssertNothingPendingAsync(observer);
    }

    [Test]
    public async Task SilentPeer_NothingAt19_9Seconds_PeerLeftTimeoutAtTwentySeconds()
    {
        var (observer, _) = await _server.JoinAsync("room");
        var (silent, silentJoin) = await _server.JoinAsync("room");
        await using var _ = observer;
        await using var __ = silent;
        await observer.NextEventAsync("peer-joined");

        await AdvanceAsync(TimeSpan.FromMilliseconds(19900), observer);
        Assert.That((await observer.NextAsync()).Str("state"), Is.EqualTo("interrupted"));
        await AssertNothingPendingAsync(observer);

        _clock.Advance(TimeSpan.FromMilliseconds(100));
        var left = await observer.NextAsync();
        Assert.Multiple(async () =>
        {
            Assert.That(left.Event(), Is.EqualTo("peer-left"));
            Assert.That(left.Str("peerId"), Is.EqualTo(silentJoin.Str("peerId")));
            Assert.That(left.Str("reason"), Is.EqualTo("timeout"));
            Assert.That(await silent.Closed, Is.EqualTo((WebSocketCloseStatus)4004), "a socket still open is told the session expired");
        });

        await using var late = await _server.ConnectAsync();
        var resume = await late.RequestAsync(new
        {
            type = "resume", sessionId = silentJoin.Str("sessionId"), resumeToken = silentJoin.Str("resumeToken"), lastSeq = 1,
        });
        Assert.That(resume.ErrorCode(), Is.EqualTo("session_expired"));
    }

    [Test]
    public async Task ResumeAtNineteenSeconds_CausesNoPeerLeftAndNoPeerJoined()
    {
        var (observer, _) = await _server.JoinAsync("room");
        var (lost, lostJoin) = await _server.JoinAsync("room");
        await using var _ = observer;
        await observer.NextEventAsync("peer-joined");
        lost.Abort();

        await AdvanceAsync(TimeSpan.FromSeconds(19), observer);
        await using var back = await _server.ConnectAsync("127.0.0.2");
        var resume = await back.RequestAsync(new
        {
            type = "resume", sessionId = lostJoin.Str("sessionId"), resumeToken = lostJoin.Str("resumeToken"), lastSeq = 1,
        });
        Assert.That(resume.Ok(), Is.True);

        await AdvanceAsync(TimeSpan.FromSeconds(30), observer, back);
        Assert.That(await PendingEventsAsync(observer), Is.EqualTo(new[] { "peer-state:interrupted", "peer-state:active" }),
            "the observer saw the outage, and nothing that says the peer left or came anew");
    }

    [Test]
    public async Task EmptyRoom_StaysUntilTenSeconds_ThenCloses()
    {
        var (client, _) = await _server.JoinAsync("room");
        await client.RequestAsync(new { type = "leave" });
        await client.Closed;
        var rooms = _server.Services.GetRequiredService<SignalingService>().Rooms;

        _clock.Advance(TimeSpan.FromMilliseconds(9999));
        Assert.That(rooms.Find("room"), Is.Not.Null);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(rooms.Find("room"), Is.Null);
    }

    [Test]
    public async Task EmptyRoom_SurvivesAJoinAtNineSeconds_AndClosesTenSecondsAfterItsNextLastPeerLeaves()
    {
        var (first, _) = await _server.JoinAsync("room");
        await first.RequestAsync(new { type = "leave" });
        await first.Closed;
        var rooms = _server.Services.GetRequiredService<SignalingService>().Rooms;
        var room = rooms.Find("room");

        _clock.Advance(TimeSpan.FromSeconds(9));
        var (second, _) = await _server.JoinAsync("room");
        await AdvanceAsync(TimeSpan.FromSeconds(5), second);
        Assert.That(rooms.Find("room"), Is.SameAs(room), "the join kept the same room");

        await second.RequestAsync(new { type = "leave" });
        await second.Closed;
        _clock.Advance(TimeSpan.FromMilliseconds(9999));
        Assert.That(rooms.Find("room"), Is.SameAs(room));
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(rooms.Find("room"), Is.Null);
    }

    /// <summary>Moves the clock in steps of at most a second, keeping <paramref name="keepAlive"/> clients alive with pings.</summary>
    private async Task AdvanceAsync(TimeSpan total, params TestClient[] keepAlive)
    {
        var step = TimeSpan.FromSeconds(1);
        while (total > TimeSpan.Zero)
        {
            var now = total < step ? total : step;
            _clock.Advance(now);
            total -= now;
            foreach (var client in keepAlive) await client.RequestAsync(new { type = "ping" });
        }
    }

    /// <summary>
    /// The events queued for <paramref name="client"/> right now, as "event:detail", read off. A ping's response
    /// closes the list: a session's messages are ordered, so any event already queued arrives before it.
    /// </summary>
    private static async Task<List<string>> PendingEventsAsync(TestClient client)
    {
        var response = await client.RequestAsync(new { type = "ping" });
        var events = new List<string>();
        foreach (var message in client.Unread().Where(m => m.Seq() < response.Seq() && m.Type() == "event"))
        {
            await client.TakeAsync(m => m.Equals(message), "queued event");
            events.Add(message.Event() switch
            {
                "peer-state" => "peer-state:" + message.Str("state"),
                "peer-left" => "peer-left:" + message.Str("reason"),
                var other => other!,
            });
        }
        return events;
    }

    private static async Task AssertNothingPendingAsync(TestClient client) =>
        Assert.That(await PendingEventsAsync(client), Is.Empty, "no event may be queued");
}
