using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Rebinding;

/// <summary>
/// The whole phone-changes-network story on a manual clock: the subscriber loses its signaling socket and its
/// media path at once, stays away for 10 s while the room changes, and comes back from a new address. It gets
/// the messages it missed and its media back; the others see only interrupted, then active.
/// </summary>
[Category("Media")]
[NonParallelizable]
public sealed class NetworkChangeRecoveryTests
{
    [Test]
    public async Task ClientLosesSocketAndMediaPath_ReturnsFromANewAddressWithin20s_GetsMissedMessagesAndMedia_OthersSeeOnlyInterruptedThenActive()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await SfuTestServer.StartAsync(clock);
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: true, clock);
        var relay = call.Relay!;
        var subscriberId = call.SubscriberSignaling.PeerId;

        // Wi-Fi is gone: no signaling, no media, in either direction.
        call.SubscriberSignaling.Abort();
        relay.ClientToServer.BlackHole = relay.ServerToClient.BlackHole = true;
        var lastSeqBeforeOutage = call.SubscriberSignaling.LastSeq;

        // Ten seconds away; meanwhile someone joins the room.
        await AdvanceAsync(clock, TimeSpan.FromSeconds(5), call);
        await using var newcomer = await server.ConnectAsync();
        await newcomer.RequestAsync(new { type = "join", room = "rebinding", name = "newcomer" });
        await AdvanceAsync(clock, TimeSpan.FromSeconds(5), call);

        // 4G is up: a new address for media, a new socket for signaling.
        relay.RebindUpstream();
        relay.ClientToServer.BlackHole = relay.ServerToClient.BlackHole = false;
        var resumed = await call.SubscriberSignaling.ResumeAsync();
        var joined = await call.SubscriberSignaling.WaitForEventAsync("peer-joined", e => e.Seq > lastSeqBeforeOutage, timeout: RebindingCall.Wait);
        var packets = call.VideoPackets;
        await call.UntilAsync(() => { clock.Advance(TimeSpan.FromMilliseconds(10)); return call.VideoPackets > packets + 60; }, "video is back");
        await call.PublisherSignaling.WaitForEventAsync("peer-state", e => e.GetString("state") == "active", timeout: RebindingCall.Wait);

        var seenByPublisher = call.PublisherSignaling.Events
            .Where(e => e.GetString("peerId") == subscriberId)
            .Select(e => e.Name == "peer-state" ? "peer-state:" + e.GetString("state") : e.Name)
            .ToList();
        Assert.Multiple(() =>
        {
            Assert.That(resumed.GetProperty("replayed").GetInt32(), Is.GreaterThanOrEqualTo(1));
            Assert.That(joined.Message.GetProperty("peer").GetProperty("name").GetString(), Is.EqualTo("newcomer"), "the missed event was replayed");
            Assert.That(seenByPublisher, Is.EqualTo(new[] { "peer-state:interrupted", "peer-state:active" }), "never peer-left, never a new peer-joined");
        });
    }

    /// <summary>Moves the clock in 100 ms steps, giving the publisher's real-time media and pings room to keep it alive.</summary>
    private static async Task AdvanceAsync(ManualClock clock, TimeSpan total, RebindingCall call)
    {
        for (var elapsed = TimeSpan.Zero; elapsed < total; elapsed += TimeSpan.FromMilliseconds(100))
        {
            clock.Advance(TimeSpan.FromMilliseconds(100));
            await call.PublisherSignaling.PingAsync();
        }
    }
}
