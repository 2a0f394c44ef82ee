using System.Diagnostics;
using Sfu.Client;
using Sfu.Client.Signaling;
using Sfu.Client.Transport;
using Sfu.Media.Sdp;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Client;

/// <summary>
/// A publisher and a subscriber built from Sfu.Client, through the real server (Kestrel signaling, the UDP
/// media port) on loopback: what one sends, the other receives, rewritten as the subscribe offer said.
/// </summary>
[NonParallelizable]
public sealed class ClientServerIntegrationTests : ServerTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Test]
    public async Task SubscriberReceivesThePublishersAudioAndVideo_Continuous_AsNegotiated()
    {
        await using var subscriberSignaling = await SignalingClient.ConnectAsync(Server.WebSocketUri);
        using var subscriber = new Subscriber(subscriberSignaling);
        await subscriberSignaling.JoinAsync("media-room", "sub");

        await using var publisherSignaling = await SignalingClient.ConnectAsync(Server.WebSocketUri);
        await publisherSignaling.JoinAsync("media-room", "pub");
        using var publisher = new Publisher();
        await publisher.PublishAsync(publisherSignaling);
        await publisher.Transport.WaitConnectedAsync(Wait);

        await subscriber.WaitForOffersAnsweredAsync(1, Wait);
        await subscriber.Transport.WaitConnectedAsync(Wait);
        var (video, audio) = await WaitForBothAsync(subscriber);
        await Task.Delay(2000);

        var offer = subscriber.Offer!;
        var videoSection = offer.Media.Single(m => m.Kind == "video" && !m.IsRejected);
        var audioSection = offer.Media.Single(m => m.Kind == "audio" && !m.IsRejected);
        video = subscriber.FindByMid(videoSection.Mid!)!;
        audio = subscriber.FindByMid(audioSection.Mid!)!;
        TestContext.Out.WriteLine(video);
        TestContext.Out.WriteLine(audio);
        Assert.Multiple(() =>
        {
            Assert.That(video.Ssrc, Is.EqualTo(videoSection.Ssrcs[0].Ssrc), "video SSRC as offered");
            Assert.That(video.PayloadType, Is.EqualTo(videoSection.Codecs.First(c => c.Is(CodecNames.Vp8)).PayloadType), "video PT as offered");
            Assert.That(audio.Ssrc, Is.EqualTo(audioSection.Ssrcs[0].Ssrc), "audio SSRC as offered");
            Assert.That(audio.PayloadType, Is.EqualTo(audioSection.Codecs.First(c => c.Is(CodecNames.Opus)).PayloadType), "audio PT as offered");
            Assert.That(video.Packets, Is.GreaterThan(200), "about 2 s of 30 fps video");
            Assert.That(audio.Packets, Is.GreaterThan(80), "about 2 s of 50 pps audio");
            Assert.That(video.Lost, Is.Zero, "no video lost on loopback");
            Assert.That(audio.Lost, Is.Zero, "no audio lost on loopback");
            Assert.That(video.Duplicates + audio.Duplicates, Is.Zero);
            Assert.That(video.Keyframes, Is.GreaterThanOrEqualTo(1), "the stream starts decodable");
            Assert.That(subscriber.Transport.SrtpFailures, Is.Zero);
        });
    }

    [Test]
    public async Task PublisherRebindsItsSocket_TheServerFollows_AndTheSubscriberKeepsReceiving()
    {
        await using var subscriberSignaling = await SignalingClient.ConnectAsync(Server.WebSocketUri);
        using var subscriber = new Subscriber(subscriberSignaling);
        await subscriberSignaling.JoinAsync("rebind-room", "sub");
        await using var publisherSignaling = await SignalingClient.ConnectAsync(Server.WebSocketUri);
        await publisherSignaling.JoinAsync("rebind-room", "pub");
        using var publisher = new Publisher(new PublisherOptions { Audio = false });
        await publisher.PublishAsync(publisherSignaling);
        await subscriber.WaitForOffersAnsweredAsync(1, Wait);
        await subscriber.Transport.WaitConnectedAsync(Wait);
        var (video, _) = await WaitForBothAsync(subscriber, audio: false);

        var before = publisher.Transport.LocalEndPoint;
        var after = await publisher.Transport.RebindAsync();
        var packetsAtRebind = subscriber.FindStream(video.Ssrc)!.Packets;
        await Until(() => subscriber.FindStream(video.Ssrc)!.Packets > packetsAtRebind + 150);

        var stats = subscriber.FindStream(video.Ssrc)!;
        TestContext.Out.WriteLine(stats);
        Assert.Multiple(() =>
        {
            Assert.That(after.Port, Is.Not.EqualTo(before.Port));
            Assert.That(publisher.Transport.MappedEndPoint, Is.EqualTo(after), "the server answered checks from the new socket");
            Assert.That(stats.Lost, Is.LessThan(30), "at most the packets sent before the server verified the new path");
        });
    }

    [Test]
    public async Task NatRebindingInFrontOfTheSubscriber_MediaFollowsTheNextCheck()
    {
        await using var subscriberSignaling = await SignalingClient.ConnectAsync(Server.WebSocketUri);
        await using var relay = new UdpRelay(await MediaEndPointAsync());
        using var subscriber = new Subscriber(subscriberSignaling, new SubscriberOptions
        {
            SendTo = relay.ListenEndPoint,
            Transport = new ClientTransportOptions { ConsentInterval = TimeSpan.FromMilliseconds(200) },
        });
        await subscriberSignaling.JoinAsync("nat-room", "sub");
        await using var publisherSignaling = await SignalingClient.ConnectAsync(Server.WebSocketUri);
        await publisherSignaling.JoinAsync("nat-room", "pub");
        using var publisher = new Publisher(new PublisherOptions { Audio = false });
        await publisher.PublishAsync(publisherSignaling);
        await subscriber.WaitForOffersAnsweredAsync(1, Wait);
        await subscriber.Transport.WaitConnectedAsync(Wait);
        var (video, _) = await WaitForBothAsync(subscriber, audio: false);
        await Task.Delay(500);

        var oldMapping = relay.UpstreamEndPoint;
        var newMapping = relay.RebindUpstream();
        var atRebind = subscriber.FindStream(video.Ssrc)!.Packets;
        await Until(() => subscriber.FindStream(video.Ssrc)!.Packets > atRebind + 300);

        var stats = subscriber.FindStream(video.Ssrc)!;
        TestContext.Out.WriteLine(stats);
        Assert.Multiple(() =>
        {
            Assert.That(newMapping, Is.Not.EqualTo(oldMapping));
            Assert.That(subscriber.Transport.MappedEndPoint, Is.EqualTo(newMapping), "the server saw the check from the new mapping");
            Assert.That(stats.Lost, Is.LessThan(100), "lost only while the server still sent to the forgotten mapping (one consent interval)");
        });
    }

    /// <summary>The server's media address, read from a throwaway publish answer's candidate.</summary>
    private async Task<System.Net.IPEndPoint> MediaEndPointAsync()
    {
        await using var probe = await SignalingClient.ConnectAsync(Server.WebSocketUri);
        await probe.JoinAsync("probe-room", "probe");
        using var transport = new ClientTransport();
        var offer = Sfu.Client.Negotiation.ClientSdp.PublishOffer(transport, new Sfu.Client.Negotiation.PublishStreams(1, null, null, "c", "s", "a", "v"));
        var answer = SdpParser.Parse(await probe.PublishAsync(SdpWriter.Write(offer)));
        return RemoteTransport.FromSdp(answer).Candidate;
    }

    private static async Task<(ReceivedStreamStats Video, ReceivedStreamStats? Audio)> WaitForBothAsync(Subscriber subscriber, bool audio = true)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Wait)
        {
            var offer = subscriber.Offer;
            var videoMid = offer?.Media.FirstOrDefault(m => m.Kind == "video" && !m.IsRejected)?.Mid;
            var audioMid = offer?.Media.FirstOrDefault(m => m.Kind == "audio" && !m.IsRejected)?.Mid;
            var v = videoMid is null ? null : subscriber.FindByMid(videoMid);
            var a = audioMid is null ? null : subscriber.FindByMid(audioMid);
            if (v is not null && (!audio || a is not null)) return (v, a);
            await Task.Delay(20);
        }

        Assert.Fail($"media did not arrive: {string.Join("; ", subscriber.Streams)}; subscriber errors: {string.Join("; ", subscriber.NegotiationErrors)}; " +
            $"subscriber transport: ice {subscriber.Transport.IsIceConnected}, dtls {subscriber.Transport.DtlsState} {subscriber.Transport.DtlsFailureReason}, rtp {subscriber.Transport.RtpReceived}");
        return default;
    }

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("condition not met in time");
            await Task.Delay(10);
        }
    }
}
