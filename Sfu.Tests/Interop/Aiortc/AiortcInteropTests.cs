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
        Assert.That(File.Exists(AiortcPeer.Python), Is.True, "python3 with aiortc is required (scripts/install-deps.sh installs python3-aiortc)");
        await using var server = await SfuTestServer.StartAsync();
        var (subscriberSignal, _) = await server.JoinAsync("aiortc", "subscriber");
        var (publisherSignal, _) = await server.JoinAsync("aiortc", "publisher");
        await using var _ = subscriberSignal;
        await using var __ = publisherSignal;
        await using var subscriber = AiortcPeer.Start("subscribe", TimeSpan.FromSeconds(40));
        await using var publisher = AiortcPeer.Start("publish", TimeSpan.FromSeconds(40));

        var offer = await publisher.ReceiveAsync("offer", TimeSpan.FromSeconds(20));
        var answer = await publisherSignal.RequestAsync(new { type = "publish", sdp = (string)offer["offer"]! });
        Assert.That(answer.Ok(), Is.True, answer.ToString());
        await publisher.SendAsync(new { answer = answer.Str("sdp") });

        var subscribeOffer = await subscriberSignal.NextEventAsync("subscribe-offer", TimeSpan.FromSeconds(20));
        await subscriber.SendAsync(new { offer = subscribeOffer.Str("sdp") });
        var subscribeAnswer = await subscriber.ReceiveAsync("answer", TimeSpan.FromSeconds(20));
        var accepted = await subscriberSignal.RequestAsync(new
        {
            type = "subscribe-answer", sdp = (string)subscribeAnswer["answer"]!, version = subscribeOffer.GetProperty("version").GetInt64(),
        });
        Assert.That(accepted.Ok(), Is.True, accepted.ToString());

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(25);
        int video = 0, audio = 0;
        while (DateTime.UtcNow < deadline && (video < 20 || audio < 20))
        {
            var report = await subscriber.ReceiveAsync("video_frames", TimeSpan.FromSeconds(10));
            video = (int)report["video_frames"]!;
            audio = (int)report["audio_frames"]!;
        }
        Assert.Multiple(() =>
        {
            Assert.That(video, Is.GreaterThanOrEqualTo(20), $"video frames decoded by the aiortc subscriber; publisher stderr: {publisher.Errors()}; subscriber stderr: {subscriber.Errors()}");
            Assert.That(audio, Is.GreaterThanOrEqualTo(20), "audio frames decoded by the aiortc subscriber");
        });
    }
}
