using Sfu.Client;
using Sfu.Client.Signaling;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Client;

/// <summary>
/// <c>sfu_media_residence_seconds</c> on the real server: a publisher's media forwarded to a subscriber over loopback
/// is observed at most once per loop turn, in seconds from the kernel's receive stamp to the turn's flush; and
/// <c>sfu_media_timer_turn_seconds</c>, the worker's timer turns beside it.
/// </summary>
[NonParallelizable]
public sealed class ResidenceMetricTests : ServerTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private const string Residence = "sfu_media_residence_seconds";
    private const string TimerTurn = "sfu_media_timer_turn_seconds";

    [Test]
    public async Task ForwardedMedia_IsObservedOncePerTurnAtMost_InSecondsOnTheKernelsClock()
    {
        var before = await MetricsSnapshot.ScrapeAsync(Server);
        Assert.That(before[Residence + "_count"], Is.Zero, "nothing received yet, nothing observed");

        await using var subscriberSignaling = await SignalingClient.ConnectAsync(Server.WebSocketUri);
        using var subscriber = new Subscriber(subscriberSignaling);
        await subscriberSignaling.JoinAsync("residence-room", "sub");
        await using var publisherSignaling = await SignalingClient.ConnectAsync(Server.WebSocketUri);
        await publisherSignaling.JoinAsync("residence-room", "pub");
        using var publisher = new Publisher(new PublisherOptions { PacingFactor = 2.5 });
        await publisher.PublishAsync(publisherSignaling);
        await subscriber.WaitForOffersAnsweredAsync(1, Wait);
        await subscriber.Transport.WaitConnectedAsync(Wait);
        await Eventually.MetricReachesAsync(Server, "sfu_media_rtp_forwarded_total", 200);

        var after = await MetricsSnapshot.ScrapeAsync(Server);
        var count = after[Residence + "_count"];
        var sum = after[Residence + "_sum"];
        TestContext.Out.WriteLine($"{count} turns observed, mean {sum / count * 1e6:F0} µs, {after["sfu_media_packets_received_total"]} datagrams received");
        Assert.Multiple(() =>
        {
            Assert.That(count, Is.GreaterThan(0), "turns that received media are observed");
            Assert.That(count, Is.LessThanOrEqualTo(after["sfu_media_packets_received_total"]), "at most one observation per turn, and a turn received something");
            Assert.That(sum, Is.GreaterThan(0), "a datagram leaves after the kernel stamped it");
            // Any mix-up of clocks or units (ticks for seconds, the wall clock's epoch) lands far above this.
            Assert.That(sum / count, Is.LessThan(1), "the mean stay is a fraction of a second");
            Assert.That(after[Residence + "_bucket{le=\"+Inf\"}"], Is.EqualTo(count));
            Assert.That(after[Residence + "_bucket{le=\"0.05\"}"], Is.GreaterThan(0), "buckets resolve up to 50 ms");
            Assert.That(after[TimerTurn + "_count"], Is.GreaterThan(before[TimerTurn + "_count"]), "the worker's timer turns are observed");
            Assert.That((after[TimerTurn + "_sum"] - before[TimerTurn + "_sum"]) / (after[TimerTurn + "_count"] - before[TimerTurn + "_count"]),
                Is.GreaterThan(0).And.LessThan(0.02), "a timer turn of two transports takes a fraction of its 20 ms interval, in seconds");
        });
    }
}
