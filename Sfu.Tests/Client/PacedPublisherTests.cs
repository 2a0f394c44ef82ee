using System.Diagnostics;
using System.Net;
using Sfu.Client;
using Sfu.Client.Media;
using Sfu.Client.Signaling;
using Sfu.Media.Rtp;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Client;

/// <summary>
/// The synthetic publisher's frames as they reach a real socket, paced and not: a relay between the publisher and the
/// real server records each video datagram (its RTP header is in the clear). The pacer's rules: <see cref="VideoPacerTests"/>.
/// </summary>
[NonParallelizable]
public sealed class PacedPublisherTests : ServerTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    // 1.5 Mbit/s paced at libwebrtc's 2.5 times; a full packet carries 1,100 bytes of payload and a header, so it
    // drains in at least 2.35 ms.
    private static readonly TimeSpan PacketTime = VideoPacerTests.PacketTime;

    [Test]
    public async Task PacedPublisher_AFramesPacketsReachTheWireSpreadOut()
    {
        var arrivals = await RecordVideoArrivalsAsync(new PublisherOptions { Audio = false, PacingFactor = VideoPacer.LibWebRtcPacingFactor });
        var spreads = FrameSpreads(arrivals);
        var median = spreads.Order().ElementAt(spreads.Count / 2);
        TestContext.Out.WriteLine($"{spreads.Count} whole frames, first to last packet: median {median:F2} ms, min {spreads.Min():F2} ms, max {spreads.Max():F2} ms");

        // The publisher lets a frame's sixth packet go at least 5 × 2.35 - 1 ms after its first; back to back they
        // take microseconds. The relay reads datagrams on its own thread pool loop, which can bunch them a little on a
        // busy machine, so the median is held only to two packet times.
        var leastSpread = 2 * PacketTime.TotalMilliseconds;
        Assert.Multiple(() =>
        {
            Assert.That(spreads, Has.Count.GreaterThan(20), "about a second of 30 fps video");
            Assert.That(median, Is.GreaterThanOrEqualTo(leastSpread), "a frame's packets are spread by the pacer");
            Assert.That(median, Is.LessThan(1000.0 / 30), "and still leave within the frame interval");
        });
    }

    [Test]
    public async Task UnpacedPublisher_SendsEachFrameBackToBack_AsBefore()
    {
        var arrivals = await RecordVideoArrivalsAsync(new PublisherOptions { Audio = false });
        var spreads = FrameSpreads(arrivals);
        var median = spreads.Order().ElementAt(spreads.Count / 2);
        TestContext.Out.WriteLine($"{spreads.Count} whole frames, first to last packet: median {median:F2} ms, max {spreads.Max():F2} ms");
        Assert.Multiple(() =>
        {
            Assert.That(spreads, Has.Count.GreaterThan(20), "every frame arrives whole without a pacer too");
            // One loop pass writes the whole frame; the median frame reaches the relay within one paced packet's time.
            Assert.That(median, Is.LessThan(PacketTime.TotalMilliseconds), "the frame is one burst");
        });
    }

    /// <summary>
    /// Publishes through a relay to the real server, with a subscriber so that the server asks for a key frame, and
    /// records, for about a second of video, when each video datagram reached the relay and its RTP timestamp.
    /// </summary>
    private async Task<List<(long At, uint RtpTimestamp)>> RecordVideoArrivalsAsync(PublisherOptions options)
    {
        await using var relay = new UdpRelay(new IPEndPoint(IPAddress.Loopback, Server.MediaPort));
        await using var subscriberSignaling = await SignalingClient.ConnectAsync(Server.WebSocketUri);
        using var subscriber = new Subscriber(subscriberSignaling);
        await subscriberSignaling.JoinAsync("paced-room", "sub");
        await using var publisherSignaling = await SignalingClient.ConnectAsync(Server.WebSocketUri);
        await publisherSignaling.JoinAsync("paced-room", "pub");
        using var publisher = new Publisher(options);

        var arrivals = new List<(long At, uint RtpTimestamp)>();
        relay.ClientToServer.DropWhen = datagram =>
        {
            var at = Stopwatch.GetTimestamp();
            if (RtpPacket.TryParse(datagram.ToArray(), out var rtp) && rtp.Ssrc == publisher.Streams.VideoSsrc)
            {
                lock (arrivals) arrivals.Add((at, rtp.Timestamp));
            }
            return false;
        };
        await publisher.PublishAsync(publisherSignaling, relay.ListenEndPoint);
        await publisher.Transport.WaitConnectedAsync(Wait);
        await subscriber.WaitForOffersAnsweredAsync(1, Wait);
        await subscriber.Transport.WaitConnectedAsync(Wait);

        var framesAtStart = publisher.FramesSent;
        var deadline = Stopwatch.GetTimestamp() + (long)(Wait.TotalSeconds * Stopwatch.Frequency);
        while (publisher.FramesSent < framesAtStart + 32 && Stopwatch.GetTimestamp() < deadline) await Task.Delay(20);
        lock (arrivals) return [.. arrivals];
    }

    /// <summary>First to last packet of every whole frame (6 packets at 1.5 Mbit/s and 30 fps), in ms.</summary>
    private static List<double> FrameSpreads(List<(long At, uint RtpTimestamp)> arrivals) =>
        [.. arrivals.GroupBy(a => a.RtpTimestamp)
            .Where(frame => frame.Count() == 6)
            .Select(frame => (frame.Max(a => a.At) - frame.Min(a => a.At)) * 1000.0 / Stopwatch.Frequency)];
}
