using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Rebinding;

/// <summary>
/// Media follows the client's authenticated address, without renegotiation: each way a client can move, each
/// in its own test. In every switch the old address gets nothing more and the publisher is asked for a keyframe.
/// </summary>
[Category("Media")]
[NonParallelizable]
public sealed class RebindingTests
{
    private const string NominatedRebinds = "sfu_media_rebinds_total{direction=\"subscribe\",trigger=\"nominated\"}";
    private const string SilentPathRebinds = "sfu_media_rebinds_total{direction=\"subscribe\",trigger=\"silent-path\"}";

    [Test]
    public async Task NatPortRebinding_ClientOnlyEverSendsUseCandidate_MediaFollowsToTheNewPort()
    {
        // The client never renominates: every check it sends carries USE-CANDIDATE (another SFU once broke exactly this).
        await using var server = await SfuTestServer.StartAsync();
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: true);
        var relay = call.Relay!;
        Assert.That(call.Subscriber.Transport.UseCandidate, Is.True);
        var plisBefore = call.Publisher.PlisReceived;

        // The NAT forgets the mapping; for 100 ms the client's packets go nowhere while the server still sends to the
        // old port; then the client's next check (every one nominates) arrives from the new mapping.
        relay.ClientToServer.BlackHole = true;
        relay.RebindUpstream(keepOldListening: true);
        await Task.Delay(100);
        relay.ClientToServer.BlackHole = false;
        call.Subscriber.Transport.SendCheck();
        await call.UntilMetricAsync(NominatedRebinds, 1);
        var staleAtSwitch = relay.StaleUpstreamReceived;
        var packetsAtSwitch = call.VideoPackets;
        await call.UntilAsync(() => call.VideoPackets > packetsAtSwitch + 60, "video arrives through the new port");
        await call.UntilAsync(() => call.Publisher.PlisReceived > plisBefore, "the publisher is asked for a keyframe");

        var video = call.Subscriber.Streams.First(s => !s.IsRtx && s.Mid is not null && s.Packets > 100);
        TestContext.Out.WriteLine($"{video}; sent to the old port while the client was gone: {staleAtSwitch}");
        Assert.Multiple(async () =>
        {
            Assert.That(relay.StaleUpstreamReceived, Is.EqualTo(staleAtSwitch), "nothing more went to the old port after the switch");
            Assert.That(staleAtSwitch, Is.GreaterThan(0), "media went to the old port until the check from the new one");
            Assert.That(video.Lost, Is.Zero, "what went to the old port was sent again to the new one");
            Assert.That(await call.MetricAsync(NominatedRebinds), Is.EqualTo(1));
            Assert.That(await call.MetricAsync("sfu_media_recovery_time_seconds_count"), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Renomination_ToASecondVerifiedPath_MovesMedia_AVerifiedButUnnominatedPathDoesNot()
    {
        await using var server = await SfuTestServer.StartAsync();
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: false);
        // The client's own checks stop nominating, so only the second path's nomination can move media.
        call.Subscriber.Transport.UseCandidate = false;
        using var second = new RebindingCall.SecondPath();
        var plisBefore = call.Publisher.PlisReceived;

        second.Send(call.SubscribeCheck(useCandidate: false), call.ServerMedia);
        await call.UntilAsync(() => second.StunResponses == 1, "the second path is verified");
        var packets = call.VideoPackets;
        await call.UntilAsync(() => call.VideoPackets > packets + 15, "video still flows on the first path");
        Assert.That(second.MediaReceived, Is.Zero, "verified is not nominated: no media on the second path");

        second.Send(call.SubscribeCheck(useCandidate: true), call.ServerMedia);
        await call.UntilMetricAsync(NominatedRebinds, 1);
        await call.UntilAsync(() => second.MediaReceived > 15, "video arrives on the nominated path");
        var firstPathAtSwitch = call.Subscriber.Transport.RtpReceived;
        await call.UntilAsync(() => second.MediaReceived > 30, "video keeps coming on the nominated path");
        await call.UntilAsync(() => call.Publisher.PlisReceived > plisBefore, "the publisher is asked for a keyframe");

        Assert.That(call.Subscriber.Transport.RtpReceived, Is.EqualTo(firstPathAtSwitch), "the first path got nothing more after the switch");
    }

    [Test]
    public async Task OldPathGoesSilent_NewPathsChecksCarryNoUseCandidate_SwitchExactlyAtTheSilenceThreshold()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await SfuTestServer.StartAsync(clock);
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: true, clock);
        var relay = call.Relay!;
        using var second = new RebindingCall.SecondPath();
        var plisBefore = call.Publisher.PlisReceived;

        // With the clock stopped, the client's next checks (every 200 ms) give the old path a known last-heard instant.
        await Task.Delay(400);
        // Then the old network dies: nothing from the client arrives over it any more (the server's packets still do).
        relay.ClientToServer.BlackHole = true;
        second.Send(call.SubscribeCheck(useCandidate: false), call.ServerMedia);
        await call.UntilAsync(() => second.StunResponses == 1, "the new path is verified");

        clock.Advance(TimeSpan.FromMilliseconds(999));
        second.Send(call.SubscribeCheck(useCandidate: false), call.ServerMedia);
        await call.UntilAsync(() => second.StunResponses == 2, "second check answered");
        await Task.Delay(100); // several worker ticks at 0.999 s of silence
        Assert.That(await call.MetricAsync(SilentPathRebinds), Is.Zero, "0.999 s of silence is not enough");
        Assert.That(second.MediaReceived, Is.Zero);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        await call.UntilMetricAsync(SilentPathRebinds, 1);
        var oldPathAtSwitch = relay.ServerToClient.Forwarded;
        await call.UntilAsync(() => second.MediaReceived > 15, "video arrives on the new path");
        clock.Advance(TimeSpan.FromSeconds(1)); // let the keyframe throttle allow the request the switch made
        await call.UntilAsync(() => call.Publisher.PlisReceived > plisBefore, "the publisher is asked for a keyframe");

        Assert.Multiple(async () =>
        {
            Assert.That(relay.ServerToClient.Forwarded - oldPathAtSwitch, Is.LessThanOrEqualTo(1), "the old path got nothing more after the switch");
            Assert.That(await call.MetricAsync(NominatedRebinds), Is.Zero);
        });
    }
}
