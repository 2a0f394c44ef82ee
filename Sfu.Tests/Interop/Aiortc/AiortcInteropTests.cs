using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Interop.Aiortc;

/// <summary>
/// A WebRTC implementation nobody here wrote (aiortc) publishes through the server, and another aiortc peer
/// subscribes: its decoder gets the video frames and audio frames, forwarded by the SFU over real UDP.
/// </summary>
[Category("Media")]
public sealed class AiortcInteropTests
{
    [Test]
    public async Task AiortcPublisher_ToAiortcSubscriber_ThroughTheServer_DeliversVideoAndAudio()
    {
        await using var server = await SfuTestServer.StartAsync();
        await using var call = await AiortcCall.StartAsync(server, subscriberRelay: null);
        var (video, audio) = await call.WaitForFramesAsync(minimum: 20, TimeSpan.FromSeconds(25));
        Assert.Multiple(() =>
        {
            Assert.That(video, Is.GreaterThanOrEqualTo(20), $"video frames decoded by the aiortc subscriber; {call.Diagnostics()}");
            Assert.That(audio, Is.GreaterThanOrEqualTo(20), "audio frames decoded by the aiortc subscriber");
        });
    }

    [Test]
    public async Task AiortcSubscriberBehindNat_WhosePortChangesMidCall_KeepsReceiving_AndThePublisherIsAskedForAKeyframe()
    {
        await using var server = await SfuTestServer.StartAsync();
        await using var relay = new UdpRelay(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, server.MediaPort));
        await using var call = await AiortcCall.StartAsync(server, relay);
        var (before, _) = await call.WaitForFramesAsync(minimum: 20, TimeSpan.FromSeconds(25));
        Assert.That(before, Is.GreaterThanOrEqualTo(20), call.Diagnostics());
        var metricsBefore = await MetricsSnapshot.ScrapeAsync(server);
        var oldAddress = relay.UpstreamEndPoint;

        relay.RebindUpstream();

        // No renegotiation, no signaling: the client's next consent check from the new port moves the media.
        var (after, _) = await call.WaitForFramesAsync(minimum: before + 30, TimeSpan.FromSeconds(20));
        var metricsAfter = await MetricsSnapshot.ScrapeAsync(server);
        var rebinds = metricsAfter["sfu_media_rebinds_total{direction=\"subscribe\",trigger=\"silent-path\"}"]
            + metricsAfter["sfu_media_rebinds_total{direction=\"subscribe\",trigger=\"nominated\"}"];
        Assert.Multiple(() =>
        {
            Assert.That(relay.UpstreamEndPoint, Is.Not.EqualTo(oldAddress));
            Assert.That(after, Is.GreaterThanOrEqualTo(before + 30), $"frames kept arriving through the new port; {call.Diagnostics()}");
            Assert.That(rebinds, Is.EqualTo(1), "exactly one switch of the subscribe transport");
            Assert.That(metricsAfter["sfu_media_keyframe_requests_sent_total"], Is.GreaterThan(metricsBefore["sfu_media_keyframe_requests_sent_total"]),
                "the publisher was asked for a keyframe after the switch");
            Assert.That(metricsAfter["sfu_media_recovery_time_seconds_count"], Is.GreaterThanOrEqualTo(1), "recovery time was measured");
        });
    }
}

/// <summary>
/// ICE consent freshness on a manual clock: a subscriber whose network goes dark loses its media path after 30 s
/// of consent silence (a dead path, reported as such), stays in the room while its signaling lives, and gets its
/// media back as soon as its checks arrive again.
/// </summary>
[Category("Media")]
public sealed class ConsentTests
{
    [Test]
    public async Task SubscriberWhoseNetworkGoesDark_LosesThePathAfterThirtySeconds_NotThePeer_AndMediaResumesWhenItIsBack()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var server = await SfuTestServer.StartAsync(clock);
        await using var relay = new UdpRelay(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, server.MediaPort));
        await using var call = await AiortcCall.StartAsync(server, relay);
        await Task.Delay(1000);
        // Keyframe requests are throttled on the server's clock: let it move so the subscriber's first one goes out.
        await call.AdvanceKeepingSignalingAliveAsync(clock, TimeSpan.FromSeconds(2));
        var (before, _) = await call.WaitForFramesAsync(minimum: 20, TimeSpan.FromSeconds(25));
        Assert.That(before, Is.GreaterThanOrEqualTo(20), call.Diagnostics());
        // aiortc checks consent every 5 s of real time; after 6 s both clients' last checks carry the current
        // (frozen) instant of the manual clock, so the 30 s are counted from here.
        await Task.Delay(6000);
        var (atBlackout, _) = await call.WaitForFramesAsync(minimum: 0, TimeSpan.FromSeconds(5));

        relay.ClientToServer.BlackHole = relay.ServerToClient.BlackHole = true;
        await call.AdvanceKeepingSignalingAliveAsync(clock, TimeSpan.FromSeconds(29));
        await Task.Delay(200); // a few worker ticks at 29 s: consent must still hold
        Assert.That((await MetricsSnapshot.ScrapeAsync(server))["sfu_media_consent_expired_total"], Is.Zero, "consent holds for 30 s");
        await call.AdvanceKeepingSignalingAliveAsync(clock, TimeSpan.FromSeconds(2));
        var expired = await WaitForMetricAsync(server, "sfu_media_consent_expired_total", 1);

        relay.ClientToServer.BlackHole = relay.ServerToClient.BlackHole = false;
        var (after, _) = await call.WaitForFramesAsync(minimum: atBlackout + 20, TimeSpan.FromSeconds(20));
        var metrics = await MetricsSnapshot.ScrapeAsync(server);
        Assert.Multiple(() =>
        {
            Assert.That(expired, Is.GreaterThanOrEqualTo(1), "the dead path was detected");
            Assert.That(call.PublisherSawPeerLeft, Is.False, "a dead path is not a dead peer");
            Assert.That(after, Is.GreaterThanOrEqualTo(atBlackout + 20),
                $"media resumed (frames before {before}, at blackout {atBlackout}, after {after}; relay {relay.ClientToServer.Forwarded} up / {relay.ServerToClient.Forwarded} down); {call.Diagnostics()}");
            Assert.That(metrics["sfu_media_rebinds_total{direction=\"subscribe\",trigger=\"restored\"}"], Is.EqualTo(1), metrics.ToString());
        });
    }

    private static async Task<double> WaitForMetricAsync(SfuTestServer server, string series, double atLeast)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        double value;
        do
        {
            value = (await MetricsSnapshot.ScrapeAsync(server))[series];
            if (value >= atLeast) return value;
            await Task.Delay(50);
        } while (DateTime.UtcNow < deadline);
        return value;
    }
}

/// <summary>An aiortc publisher and an aiortc subscriber in one room, their SDP relayed through the server's signaling.</summary>
internal sealed class AiortcCall : IAsyncDisposable
{
    private readonly TestClient _subscriberSignal;
    private readonly TestClient _publisherSignal;
    private readonly AiortcPeer _subscriber;
    private readonly AiortcPeer _publisher;

    private AiortcCall(TestClient subscriberSignal, TestClient publisherSignal, AiortcPeer subscriber, AiortcPeer publisher)
    {
        _subscriberSignal = subscriberSignal;
        _publisherSignal = publisherSignal;
        _subscriber = subscriber;
        _publisher = publisher;
    }

    /// <param name="subscriberRelay">When set, the subscriber reaches the server's media port only through this relay.</param>
    public static async Task<AiortcCall> StartAsync(SfuTestServer server, UdpRelay? subscriberRelay)
    {
        Assert.That(File.Exists(AiortcPeer.Python), Is.True, "python3 with aiortc is required (scripts/install-deps.sh installs python3-aiortc)");
        var (subscriberSignal, _) = await server.JoinAsync("aiortc", "subscriber");
        var (publisherSignal, _) = await server.JoinAsync("aiortc", "publisher");
        var subscriber = AiortcPeer.Start("subscribe", TimeSpan.FromSeconds(60));
        var publisher = AiortcPeer.Start("publish", TimeSpan.FromSeconds(60));

        var offer = await publisher.ReceiveAsync("offer", TimeSpan.FromSeconds(20));
        var answer = await publisherSignal.RequestAsync(new { type = "publish", sdp = (string)offer["offer"]! });
        Assert.That(answer.Ok(), Is.True, answer.ToString());
        await publisher.SendAsync(new { answer = answer.Str("sdp") });

        var subscribeOffer = await subscriberSignal.NextEventAsync("subscribe-offer", TimeSpan.FromSeconds(20));
        var offerSdp = subscribeOffer.Str("sdp");
        if (subscriberRelay is not null)
            offerSdp = offerSdp.Replace($" {server.MediaPort} typ host", $" {subscriberRelay.ListenEndPoint.Port} typ host", StringComparison.Ordinal);
        await subscriber.SendAsync(new { offer = offerSdp });
        var subscribeAnswer = await subscriber.ReceiveAsync("answer", TimeSpan.FromSeconds(20));
        var accepted = await subscriberSignal.RequestAsync(new
        {
            type = "subscribe-answer", sdp = (string)subscribeAnswer["answer"]!, version = subscribeOffer.GetProperty("version").GetInt64(),
        });
        Assert.That(accepted.Ok(), Is.True, accepted.ToString());

        return new AiortcCall(subscriberSignal, publisherSignal, subscriber, publisher);
    }

    /// <summary>
    /// Waits until the subscriber decoded at least <paramref name="minimum"/> video and audio frames, or the time is
    /// up; returns its latest counts.
    /// </summary>
    public async Task<(int Video, int Audio)> WaitForFramesAsync(int minimum, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            var counts = _subscriber.LatestCounts ?? (0, 0);
            if ((counts.Video >= minimum && counts.Audio >= minimum) || DateTime.UtcNow >= deadline) return counts;
            await Task.Delay(100);
        }
    }

    /// <summary>Moves the clock in one-second steps; both peers ping on every step, so only media paths can lapse.</summary>
    public async Task AdvanceKeepingSignalingAliveAsync(ManualClock clock, TimeSpan total)
    {
        for (var elapsed = TimeSpan.Zero; elapsed < total; elapsed += TimeSpan.FromSeconds(1))
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await _publisherSignal.RequestAsync(new { type = "ping" });
            await _subscriberSignal.RequestAsync(new { type = "ping" });
        }
    }

    /// <summary>Whether the publisher's signaling was ever told the subscriber left.</summary>
    public bool PublisherSawPeerLeft => _publisherSignal.History.Any(m => m.Event() == "peer-left");

    public string Diagnostics() => $"publisher stderr: {_publisher.Errors()}; subscriber stderr: {_subscriber.Errors()}";

    public async ValueTask DisposeAsync()
    {
        await _publisher.DisposeAsync();
        await _subscriber.DisposeAsync();
        await _publisherSignal.DisposeAsync();
        await _subscriberSignal.DisposeAsync();
    }
}
