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
        await using var relay = new NatRelay(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, server.MediaPort));
        await using var call = await AiortcCall.StartAsync(server, relay);
        var (before, _) = await call.WaitForFramesAsync(minimum: 20, TimeSpan.FromSeconds(25));
        Assert.That(before, Is.GreaterThanOrEqualTo(20), call.Diagnostics());
        var metricsBefore = await MetricsSnapshot.ScrapeAsync(server);
        var oldAddress = relay.ServerFacingEndPoint;

        relay.Rebind();

        // No renegotiation, no signaling: the client's next consent check from the new port moves the media.
        var (after, _) = await call.WaitForFramesAsync(minimum: before + 30, TimeSpan.FromSeconds(20));
        var metricsAfter = await MetricsSnapshot.ScrapeAsync(server);
        var rebinds = metricsAfter["sfu_media_rebinds_total{direction=\"subscribe\",trigger=\"silent-path\"}"]
            + metricsAfter["sfu_media_rebinds_total{direction=\"subscribe\",trigger=\"nominated\"}"];
        Assert.Multiple(() =>
        {
            Assert.That(relay.ServerFacingEndPoint, Is.Not.EqualTo(oldAddress));
            Assert.That(after, Is.GreaterThanOrEqualTo(before + 30), $"frames kept arriving through the new port; {call.Diagnostics()}");
            Assert.That(rebinds, Is.EqualTo(1), "exactly one switch of the subscribe transport");
            Assert.That(metricsAfter["sfu_media_keyframe_requests_sent_total"], Is.GreaterThan(metricsBefore["sfu_media_keyframe_requests_sent_total"]),
                "the publisher was asked for a keyframe after the switch");
            Assert.That(metricsAfter["sfu_media_recovery_time_seconds_count"], Is.GreaterThanOrEqualTo(1), "recovery time was measured");
        });
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
    public static async Task<AiortcCall> StartAsync(SfuTestServer server, NatRelay? subscriberRelay)
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
            offerSdp = offerSdp.Replace($" {server.MediaPort} typ host", $" {subscriberRelay.ClientFacingEndPoint.Port} typ host", StringComparison.Ordinal);
        await subscriber.SendAsync(new { offer = offerSdp });
        var subscribeAnswer = await subscriber.ReceiveAsync("answer", TimeSpan.FromSeconds(20));
        var accepted = await subscriberSignal.RequestAsync(new
        {
            type = "subscribe-answer", sdp = (string)subscribeAnswer["answer"]!, version = subscribeOffer.GetProperty("version").GetInt64(),
        });
        Assert.That(accepted.Ok(), Is.True, accepted.ToString());

        return new AiortcCall(subscriberSignal, publisherSignal, subscriber, publisher);
    }

    /// <summary>Waits until the subscriber decoded at least <paramref name="minimum"/> video frames; returns its counts.</summary>
    public async Task<(int Video, int Audio)> WaitForFramesAsync(int minimum, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        int video = 0, audio = 0;
        while (DateTime.UtcNow < deadline && (video < minimum || audio < minimum))
        {
            var report = await _subscriber.ReceiveAsync("video_frames", TimeSpan.FromSeconds(10));
            video = (int)report["video_frames"]!;
            audio = (int)report["audio_frames"]!;
        }
        return (video, audio);
    }

    public string Diagnostics() => $"publisher stderr: {_publisher.Errors()}; subscriber stderr: {_subscriber.Errors()}";

    public async ValueTask DisposeAsync()
    {
        await _publisher.DisposeAsync();
        await _subscriber.DisposeAsync();
        await _publisherSignal.DisposeAsync();
        await _subscriberSignal.DisposeAsync();
    }
}
