using Sfu.Media.Congestion;
using Sfu.Media.Rtcp;

namespace Sfu.Tests.Media.Congestion;

/// <summary>The whole estimator against a simulated bottleneck (see <see cref="BottleneckSimulation"/>).</summary>
public class SendSideBandwidthEstimatorTests
{
    [Test]
    public void FixedCapacity_EstimateConvergesNearIt_WithoutStandingQueue()
    {
        var sim = new BottleneckSimulation(capacity: 1_500_000);
        sim.Run(TimeSpan.FromSeconds(40));

        var mean = sim.MeanEstimate(20, 40);
        TestContext.Out.WriteLine($"mean estimate 20-40 s: {mean / 1000:F0} kbit/s, max queue delay {sim.MaxQueueDelayUs(20, 40) / 1000} ms");
        Assert.That(mean, Is.InRange(0.7 * 1_500_000, 1.1 * 1_500_000));
        Assert.That(sim.MaxQueueDelayUs(20, 40), Is.LessThan(200_000), "the queue never fills up to its drop-tail limit");
    }

    [Test]
    public void StartUp_ProbesFindAFastLinkWithinSeconds()
    {
        var sim = new BottleneckSimulation(capacity: 5_000_000);
        sim.Run(TimeSpan.FromSeconds(3));

        Assert.That(sim.ProbePacketsSent, Is.GreaterThan(0));
        Assert.That(sim.Estimator.EstimatedBitrate, Is.GreaterThan(2_000_000), "8 %/s growth alone would still be near 300 kbit/s");
    }

    [Test]
    public void CapacityDrops_EstimateBacksOffOnGrowingQueueingDelay()
    {
        var sim = new BottleneckSimulation(capacity: 2_500_000) { QueueBytes = 200_000 }; // deep queue: delay, not loss, is the signal
        sim.Run(TimeSpan.FromSeconds(20));
        var before = sim.MeanEstimate(15, 20);
        sim.Capacity = 600_000;
        sim.Run(TimeSpan.FromSeconds(10));

        TestContext.Out.WriteLine($"before {before / 1000:F0} kbit/s, 2-5 s after the drop {sim.MeanEstimate(22, 25) / 1000:F0} kbit/s; " +
            $"queue delay 20-22 s {sim.MaxQueueDelayUs(20, 22) / 1000} ms, 28-30 s {sim.MaxQueueDelayUs(28, 30) / 1000} ms");
        Assert.That(before, Is.GreaterThan(1_800_000));
        // Detection takes ~0.8 s here: the overload's own queue delays the feedback that reveals it.
        Assert.That(sim.MeanEstimate(21, 30), Is.LessThan(600_000), "below the new capacity, so the queue drains");
        Assert.That(sim.MaxQueueDelayUs(28, 30), Is.LessThan(sim.MaxQueueDelayUs(20, 22)));
    }

    [Test]
    public void HeavyRandomLoss_EstimateFalls_LightLossDoesNot()
    {
        var lossy = new BottleneckSimulation(capacity: 50_000_000) { RandomLoss = 0.2 };
        lossy.Run(TimeSpan.FromSeconds(10));
        var light = new BottleneckSimulation(capacity: 50_000_000) { RandomLoss = 0.01, DesiredBitrate = 1_000_000 };
        light.Run(TimeSpan.FromSeconds(10));

        Assert.That(lossy.Estimator.EstimatedBitrate, Is.LessThan(BandwidthEstimatorSettings.Default.StartBitrate / 2));
        Assert.That(light.Estimator.EstimatedBitrate, Is.GreaterThan(1_000_000));
    }

    [Test]
    public void CapacityReturns_EstimateRecovers()
    {
        var sim = new BottleneckSimulation(capacity: 2_000_000);
        sim.Run(TimeSpan.FromSeconds(15));
        sim.Capacity = 400_000;
        sim.Run(TimeSpan.FromSeconds(15));
        var throttled = sim.MeanEstimate(25, 30);
        sim.Capacity = 2_000_000;
        sim.Run(TimeSpan.FromSeconds(20));

        TestContext.Out.WriteLine($"throttled {throttled / 1000:F0} kbit/s, recovered {sim.MeanEstimate(45, 50) / 1000:F0} kbit/s");
        Assert.That(throttled, Is.LessThan(500_000));
        Assert.That(sim.MeanEstimate(45, 50), Is.GreaterThan(1_400_000));
    }

    [Test]
    public void VideoPausedForWantOfBandwidth_ProbesFindTheLinkAgain_OnceItComesBack()
    {
        // The estimate fell under the lowest layer (a 120 kbit/s squeeze), so only audio goes out; what the allocator
        // wants is the lowest layer with its move-up margins. Then the link is fast again.
        var sim = new BottleneckSimulation(capacity: 2_000_000) { DesiredBitrate = 910_000 };
        sim.Run(TimeSpan.FromSeconds(10));
        sim.Capacity = 120_000;
        sim.Run(TimeSpan.FromSeconds(5));
        var squeezed = sim.Estimator.EstimatedBitrate;
        (sim.MediaBitrate, sim.DesiredBitrate) = (40_000, 260_000);
        sim.Run(TimeSpan.FromSeconds(2));
        sim.Capacity = 2_000_000;
        sim.Run(TimeSpan.FromSeconds(15));

        var resumedAt = sim.Estimates.FirstOrDefault(e => e.TimeUs >= 17_000_000 && e.Bitrate >= 260_000).TimeUs;
        TestContext.Out.WriteLine($"squeezed to {squeezed / 1000} kbit/s; the link back at 17 s, the lowest layer fits again at {resumedAt / 1e6:F1} s; "
            + string.Join(", ", sim.Estimates.Where(e => e.TimeUs >= 15_000_000 && e.TimeUs % 1_000_000 == 0).Select(e => $"{e.TimeUs / 1_000_000} s {e.Bitrate / 1000}")));
        Assert.That(squeezed, Is.LessThan(260_000), "the premise: the squeeze took the estimate under what the video needs");
        Assert.That(resumedAt, Is.GreaterThan(0).And.LessThanOrEqualTo(23_000_000), "within a periodic probe and its follow-up of the link's return");
    }

    [Test]
    public void ShapedLink_ProbesDoNotPromiseMoreThanItCarries_AndTheEstimateDoesNotCollapse()
    {
        // A 400 kbit/s token bucket with a 3000-byte burst and a 200 ms queue (tc tbf ... burst 3000 latency 200ms),
        // a sender that would take 910 kbit/s (a top layer plus its move-up margin), so it probes every few seconds.
        var sim = new BottleneckSimulation(capacity: 2_000_000) { DesiredBitrate = 910_000 };
        sim.Run(TimeSpan.FromSeconds(10));
        sim.Capacity = 400_000;
        sim.BurstBytes = 3_000;
        sim.QueueBytes = 10_000;
        sim.Run(TimeSpan.FromSeconds(30));

        var (low, high) = (sim.Estimates.Where(e => e.TimeUs >= 13_000_000).Min(e => e.Bitrate), sim.MaxEstimate(13, 40));
        TestContext.Out.WriteLine($"3-30 s into the limit: estimate {low / 1000}-{high / 1000} kbit/s, mean {sim.MeanEstimate(13, 40) / 1000:F0}");
        Assert.That(high, Is.LessThan(600_000), "no probe found room for the 910 kbit/s wanted");
        Assert.That(low, Is.GreaterThan(200_000), "never far under the link");
    }

    [Test]
    public void Restart_StartsFromTheStartRate_ProbesAtOnce_AndLearnsTheNewLink()
    {
        var sim = new BottleneckSimulation(capacity: 3_000_000);
        sim.Run(TimeSpan.FromSeconds(20));
        Assert.That(sim.Estimator.EstimatedBitrate, Is.GreaterThan(2_000_000));

        // Wi-Fi to 4G: a slower link, and the estimate must not carry the old figure onto it.
        sim.Capacity = 800_000;
        sim.Estimator.Restart(sim.NowUs);
        Assert.That(sim.Estimator.EstimatedBitrate, Is.EqualTo(BandwidthEstimatorSettings.Default.StartBitrate));
        var probesBefore = sim.ProbePacketsSent;
        sim.Run(TimeSpan.FromMilliseconds(25));
        Assert.That(sim.ProbePacketsSent, Is.GreaterThan(probesBefore), "a probe goes out on the first tick after the restart");

        sim.Run(TimeSpan.FromSeconds(15));
        var mean = sim.MeanEstimate(30, 35);
        TestContext.Out.WriteLine($"new link: {mean / 1000:F0} kbit/s");
        Assert.That(mean, Is.InRange(0.6 * 800_000, 1.15 * 800_000));
    }

    [Test]
    public void Remb_CapsTheEstimate()
    {
        var sim = new BottleneckSimulation(capacity: 5_000_000);
        sim.Run(TimeSpan.FromSeconds(5));
        sim.Estimator.OnRemb(400_000, sim.NowUs);

        Assert.That(sim.Estimator.EstimatedBitrate, Is.EqualTo(400_000));
    }

    [Test]
    public void WithoutTransportCc_ReceiverReportLossDrivesTheEstimate()
    {
        var settings = BandwidthEstimatorSettings.Default;
        var lossy = new SendSideBandwidthEstimator(settings, 0);
        var clean = new SendSideBandwidthEstimator(settings, 0);
        for (var second = 1; second <= 10; second++)
        {
            lossy.OnReceiverReportLoss(77, second * 1_000_000L); // 30 %
            clean.OnReceiverReportLoss(0, second * 1_000_000L);
        }

        Assert.That(lossy.EstimatedBitrate, Is.LessThan(settings.StartBitrate / 2));
        Assert.That(clean.EstimatedBitrate, Is.InRange((long)(settings.StartBitrate * 1.5), settings.StartBitrate * 3));
    }

    [Test]
    public void Feedback_DoesNotAllocate()
    {
        var estimator = new SendSideBandwidthEstimator(BandwidthEstimatorSettings.Default, 0);
        var first = estimator.History.NextSequenceNumber;
        var arrivals = new List<long?>();
        for (var i = 0; i < 50; i++)
        {
            estimator.OnPacketSent(1200, i * 1000L);
            arrivals.Add(i % 10 == 3 ? null : 30_000 + (i * 1000L));
        }
        var packet = TransportFeedbackBuilder.FromArrivals(first, arrivals, 0);

        Feed(estimator, packet, 100_000);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++)
        {
            estimator.OnPacketSent(1200, 100_000 + i);
            Feed(estimator, packet, 100_000 + i);
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    private static void Feed(SendSideBandwidthEstimator estimator, byte[] packet, long nowUs)
    {
        RtcpTransportFeedback.TryParse(packet, out var feedback);
        estimator.OnTransportFeedback(feedback, nowUs);
    }
}
