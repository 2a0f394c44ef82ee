using System.Diagnostics;
using System.Net;
using Sfu.Client;
using Sfu.Client.Signaling;
using Sfu.Client.Transport;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Chaos;

/// <summary>
/// A publisher and a subscriber (Sfu.Client: real ICE, DTLS, SRTP) each behind a <see cref="UdpRelay"/> to the real
/// server, every direction losing, reordering and duplicating datagrams, and both relays re-binding (a new NAT port)
/// at random. Video must keep arriving and completing frames every second; the forwarding path must not allocate per
/// packet under loss, reordering and duplicates (below half a byte per forwarded packet over the window); and once both leave, no transport, session or peer is left behind.
/// </summary>
public sealed class MediaChaosTests : ServerTest
{
    private const int Seed = 42;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(250);

    [Test]
    public async Task LossReorderingDuplicationAndRebinds_VideoKeepsFlowingEverySecond_AndNothingLeaks()
    {
        var serverMedia = new IPEndPoint(IPAddress.Loopback, Server.MediaPort);
        var publisherRelay = new UdpRelay(serverMedia, seed: Seed);
        var subscriberRelay = new UdpRelay(serverMedia, seed: Seed + 10);
        var transport = new ClientTransportOptions { ConsentInterval = TimeSpan.FromMilliseconds(200) };
        var subscriberSignaling = await SignalingClient.ConnectAsync(Server.WebSocketUri);
        var subscriber = new Subscriber(subscriberSignaling, new SubscriberOptions { SendTo = subscriberRelay.ListenEndPoint, Transport = transport });
        var publisherSignaling = await SignalingClient.ConnectAsync(Server.WebSocketUri);
        var publisher = new Publisher(new PublisherOptions { Transport = transport });
        try
        {
            await subscriberSignaling.JoinAsync("media-chaos", "subscriber");
            await publisherSignaling.JoinAsync("media-chaos", "publisher", autoSubscribe: false);
            await publisher.PublishAsync(publisherSignaling, publisherRelay.ListenEndPoint);
            await subscriber.WaitForOffersAnsweredAsync(1, Wait);
            await subscriber.Transport.WaitConnectedAsync(Wait);
            await UntilAsync(() => Frames(subscriber) > 30, "video frames reach the subscriber");

            RelayLane[] lanes = [publisherRelay.ClientToServer, publisherRelay.ServerToClient, subscriberRelay.ClientToServer, subscriberRelay.ServerToClient];
            foreach (var lane in lanes)
            {
                lane.DropProbability = 0.05;
                lane.ReorderProbability = 0.1;
                lane.DuplicateProbability = 0.05;
            }

            // Loss, reordering and duplicates alone: the per-packet path (forwarding, NACK answers, duplicate checks).
            var before = await MetricsSnapshot.ScrapeAsync(Server);
            var steadyFrames = await FramesPerSecondAsync(subscriber, seconds: 3, random: null, publisherRelay, subscriberRelay);
            var after = await MetricsSnapshot.ScrapeAsync(Server);
            var forwarded = after["sfu_media_rtp_forwarded_total"] - before["sfu_media_rtp_forwarded_total"];
            var allocated = after["sfu_media_worker_allocated_bytes_total"] - before["sfu_media_worker_allocated_bytes_total"];

            // And now both ends re-bind at random too, about once a second each.
            var rebindingFrames = await FramesPerSecondAsync(subscriber, seconds: 6, new Random(Seed), publisherRelay, subscriberRelay);
            var rebinds = publisherRelay.Rebinds + subscriberRelay.Rebinds;

            TestContext.Progress.WriteLine(
                $"media chaos: frames per second {string.Join(" ", steadyFrames)} | with rebinds {string.Join(" ", rebindingFrames)}; {rebinds} rebinds; " +
                $"{lanes.Sum(l => l.Dropped)} dropped, {lanes.Sum(l => l.Reordered)} reordered, {lanes.Sum(l => l.Duplicated)} duplicated; " +
                $"worker allocated {allocated} bytes over {forwarded} forwarded packets");
            Assert.Multiple(() =>
            {
                Assert.That(steadyFrames, Has.All.GreaterThan(10), "frames completed in every second of loss, reordering and duplication (30 fps sent)");
                Assert.That(rebindingFrames, Has.All.GreaterThan(0), "frames completed in every second, across re-binds");
                Assert.That(rebinds, Is.GreaterThanOrEqualTo(6));
                Assert.That(lanes.Sum(l => l.Duplicated), Is.GreaterThan(0));
                Assert.That(forwarded, Is.GreaterThan(0));
                // Per packet, not per window: a rare event (a log line, a new NACK history slot) may allocate a few bytes once.
                Assert.That(allocated / forwarded, Is.LessThan(0.5), "media worker bytes allocated per forwarded packet under loss, reordering and duplicates");
            });
        }
        finally
        {
            await publisherSignaling.LeaveAsync();
            await subscriberSignaling.LeaveAsync();
            publisher.Dispose();
            subscriber.Dispose();
            await publisherSignaling.DisposeAsync();
            await subscriberSignaling.DisposeAsync();
            await publisherRelay.DisposeAsync();
            await subscriberRelay.DisposeAsync();
        }

        await UntilAsync(async () =>
        {
            var metrics = await MetricsSnapshot.ScrapeAsync(Server);
            return metrics["sfu_media_transports"] == 0 && metrics["sfu_sessions"] == 0 && metrics["sfu_peers"] == 0;
        }, "transports, sessions and peers back to 0 after both left");
    }

    /// <summary>Frames completed in each second; with <paramref name="random"/>, each step may re-bind one relay.</summary>
    private static async Task<List<long>> FramesPerSecondAsync(Subscriber subscriber, int seconds, Random? random, params UdpRelay[] relays)
    {
        var perSecond = new List<long>();
        var stepsPerSecond = (int)(TimeSpan.FromSeconds(1) / Step);
        for (var second = 0; second < seconds; second++)
        {
            var start = Frames(subscriber);
            for (var step = 0; step < stepsPerSecond; step++)
            {
                if (random is not null && random.Next(stepsPerSecond / 2) == 0) relays[random.Next(relays.Length)].RebindUpstream();
                await Task.Delay(Step);
            }
            perSecond.Add(Frames(subscriber) - start);
        }
        return perSecond;
    }

    private static long Frames(Subscriber subscriber)
    {
        var mid = subscriber.Offer?.Media.FirstOrDefault(m => m.Kind == "video" && !m.IsRejected)?.Mid;
        return mid is null ? 0 : subscriber.FindByMid(mid)?.Frames ?? 0;
    }

    private static Task UntilAsync(Func<bool> condition, string what) => UntilAsync(() => Task.FromResult(condition()), what);

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > Wait) Assert.Fail($"timed out waiting until {what}");
            await Task.Delay(20);
        }
    }
}
