using System.Buffers.Binary;
using System.Net;
using Sfu.Client;
using Sfu.Client.Negotiation;
using Sfu.Client.Signaling;
using Sfu.Tests.Infrastructure;
using Sfu.Tests.Media.Rebinding;

namespace Sfu.Tests.Media.Forwarding;

/// <summary>
/// RTCP feedback through the server: NACKs answered from the producer's cache as RTX, the publisher's uplink losses
/// NACKed by the server and repaired from its RTX, PLIs reach the publisher.
/// </summary>
[Category("Media")]
[NonParallelizable]
public sealed class FeedbackTests
{
    [Test]
    public async Task PacketsLostOnTheWayToTheSubscriber_AreRetransmittedAsRtx_WhenItSendsNacks()
    {
        await using var server = await SfuTestServer.StartAsync();
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: true);
        var video = call.Subscriber.Offer!.Media.First(m => m.Kind == "video" && !m.IsRejected);
        var videoSsrc = video.Ssrcs[0].Ssrc;

        // Lose every 40th video packet on the way to the subscriber, ten times, remembering which.
        var dropped = new List<ushort>();
        call.Relay!.ServerToClient.DropWhen = datagram =>
        {
            var bytes = datagram.Span;
            if (bytes.Length < 12 || bytes[0] < 128 || bytes[1] is >= 192 and <= 223) return false;
            if (BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]) != videoSsrc) return false;
            var sequence = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
            lock (dropped)
            {
                if (dropped.Count >= 10 || sequence % 40 != 0) return false;
                dropped.Add(sequence);
                return true;
            }
        };
        await call.UntilAsync(() => { lock (dropped) return dropped.Count == 10; }, "ten packets were lost");
        // The subscriber sees the tenth gap only when the packet after it arrives.
        await call.UntilAsync(() => call.Subscriber.FindStream(videoSsrc)!.Lost >= 10, "the subscriber saw ten gaps");
        var lostBefore = call.Subscriber.FindStream(videoSsrc)!.Lost;

        ushort[] nacked;
        lock (dropped) nacked = [.. dropped];
        call.Subscriber.SendNack(videoSsrc, nacked);
        await call.UntilAsync(() => call.Subscriber.FindStream(videoSsrc)!.Retransmissions >= 10, "every lost packet came back");

        var stream = call.Subscriber.FindStream(videoSsrc)!;
        var metrics = await MetricsSnapshot.ScrapeAsync(server);
        Assert.Multiple(() =>
        {
            Assert.That(lostBefore, Is.EqualTo(10), "the relay's losses showed as gaps");
            Assert.That(stream.Lost, Is.Zero, "retransmissions filled every gap");
            Assert.That(metrics["sfu_media_nacks_received_total"], Is.GreaterThanOrEqualTo(1));
            Assert.That(metrics["sfu_media_retransmissions_total"], Is.EqualTo(10));
            Assert.That(call.Publisher.NacksReceived, Is.Zero, "answered from the server's cache, not by the publisher");
        });
    }

    [Test]
    public async Task PacketsLostOnThePublishersUplink_AreNackedByTheServer_AndReachTheSubscriberAfterAll()
    {
        await using var server = await SfuTestServer.StartAsync();
        await using var relay = new UdpRelay(new IPEndPoint(IPAddress.Loopback, server.MediaPort));
        await using var subscriberSignaling = await SignalingClient.ConnectAsync(server.WebSocketUri);
        using var subscriber = new Subscriber(subscriberSignaling);
        await subscriberSignaling.JoinAsync("uplink", "subscriber");
        await using var publisherSignaling = await SignalingClient.ConnectAsync(server.WebSocketUri);
        await publisherSignaling.JoinAsync("uplink", "publisher");
        using var publisher = new Publisher(new PublisherOptions { Audio = false });
        await publisher.PublishAsync(publisherSignaling, relay.ListenEndPoint);
        await subscriber.WaitForOffersAnsweredAsync(1, RebindingCall.Wait);
        var videoSsrc = subscriber.Offer!.Media.First(m => m.Kind == "video" && !m.IsRejected).Ssrcs[0].Ssrc;
        await Eventually.HoldsAsync(() => Task.FromResult(subscriber.FindStream(videoSsrc) is { Packets: > 30 }), "video reaching the subscriber");

        // Once video flows, lose every 40th video packet on its way from the publisher, ten times; its retransmission (RTX) passes.
        var dropped = new List<ushort>();
        relay.ClientToServer.DropWhen = datagram =>
        {
            var bytes = datagram.Span;
            if (bytes.Length < 12 || bytes[0] < 128 || (bytes[1] & 0x7F) != ClientSdp.Vp8PayloadType) return false;
            var sequence = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
            lock (dropped)
            {
                if (dropped.Count >= 10 || sequence % 40 != 0) return false;
                dropped.Add(sequence);
                return true;
            }
        };
        await Eventually.HoldsAsync(() => { lock (dropped) return Task.FromResult(dropped.Count == 10); }, "ten packets lost");
        var sent = subscriber.FindStream(videoSsrc)!.Packets;

        await Eventually.HoldsAsync(() => Task.FromResult(subscriber.FindStream(videoSsrc)!.Packets > sent + 100), "video past the ten losses reaching the subscriber");

        var stream = subscriber.FindStream(videoSsrc)!;
        var metrics = await MetricsSnapshot.ScrapeAsync(server);
        Assert.Multiple(() =>
        {
            Assert.That(stream.Lost, Is.Zero, "every packet lost on the uplink reached the subscriber");
            Assert.That(stream.Late, Is.EqualTo(10), "each a little after its successors");
            Assert.That(publisher.NacksReceived, Is.GreaterThanOrEqualTo(1));
            Assert.That(metrics["sfu_media_publisher_nacks_sent_total"], Is.GreaterThanOrEqualTo(1));
            Assert.That(metrics["sfu_media_publisher_packets_recovered_total"], Is.EqualTo(10));
            Assert.That(metrics["sfu_media_nacks_received_total"], Is.Zero, "the subscriber had nothing to ask for");
        });
    }

    [Test]
    public async Task RepeatedNacksForTheSamePackets_AreAnsweredOncePerRoundTrip_TheRestCountedAsThrottled()
    {
        await using var server = await SfuTestServer.StartAsync();
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: true);
        var videoSsrc = call.Subscriber.Offer!.Media.First(m => m.Kind == "video" && !m.IsRejected).Ssrcs[0].Ssrc;
        var latest = -1;
        call.Relay!.ServerToClient.DropWhen = datagram =>
        {
            var bytes = datagram.Span;
            if (bytes.Length >= 12 && bytes[0] >= 128 && bytes[1] is < 192 or > 223 && BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]) == videoSsrc)
                Volatile.Write(ref latest, BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]));
            return false;
        };
        await call.UntilAsync(() => Volatile.Read(ref latest) >= 0 && call.Subscriber.FindStream(videoSsrc) is { Packets: > 20 }, "video flows");
        var last = Volatile.Read(ref latest);
        var nacked = Enumerable.Range(0, 10).Select(i => (ushort)(last - 9 + i)).ToArray();

        // A client (or an attacker) asks for the same ten packets fifty times within a few milliseconds.
        for (var i = 0; i < 50; i++) call.Subscriber.SendNack(videoSsrc, nacked);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((await MetricsSnapshot.ScrapeAsync(server))["sfu_media_dropped_total{reason=\"nack-throttled\"}"] < 490 && DateTime.UtcNow < deadline)
            await Task.Delay(20);

        var metrics = await MetricsSnapshot.ScrapeAsync(server);
        Assert.Multiple(() =>
        {
            Assert.That(metrics["sfu_media_retransmissions_total"], Is.EqualTo(10), "each packet re-sent once");
            Assert.That(metrics["sfu_media_dropped_total{reason=\"nack-throttled\"}"], Is.EqualTo(490));
        });
    }

    [Test]
    public async Task PliFromTheSubscriber_ReachesThePublisher_WhichSendsAKeyframe()
    {
        await using var server = await SfuTestServer.StartAsync();
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: false);
        var videoSsrc = call.Subscriber.Offer!.Media.First(m => m.Kind == "video" && !m.IsRejected).Ssrcs[0].Ssrc;
        await Task.Delay(1100); // past the once-a-second throttle of the first keyframe request
        var plis = call.Publisher.PlisReceived;
        var keyframes = call.Subscriber.FindStream(videoSsrc)!.Keyframes;

        call.Subscriber.RequestKeyframe(videoSsrc);
        await call.UntilAsync(() => call.Publisher.PlisReceived > plis, "the PLI reaches the publisher");
        await call.UntilAsync(() => call.Subscriber.FindStream(videoSsrc)!.Keyframes > keyframes, "a fresh keyframe reaches the subscriber");

        Assert.That(await call.MetricAsync("sfu_media_keyframe_requests_received_total"), Is.GreaterThanOrEqualTo(1));
    }
}
