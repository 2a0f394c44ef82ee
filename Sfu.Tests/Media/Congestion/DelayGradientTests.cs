using Sfu.Media.Congestion;

namespace Sfu.Tests.Media.Congestion;

/// <summary>Inter-arrival grouping, the trendline and the overuse detector, on hand-made delay traces.</summary>
public class DelayGradientTests
{
    [Test]
    public void InterArrival_PacketsOfOneFrame_FormOneGroup()
    {
        var groups = new InterArrival();
        var deltas = new List<GroupDelta>();
        // Three frames 33 ms apart, 4 packets each sent 1 ms apart, arriving 50 ms later with 2 ms spacing.
        for (var frame = 0; frame < 3; frame++)
        {
            for (var p = 0; p < 4; p++)
            {
                long send = (frame * 33_000) + (p * 1000);
                if (groups.TryAdd(send, send + 50_000 + (p * 1000), out var delta)) deltas.Add(delta);
            }
        }
        groups.TryAdd(100_000, 150_000, out var last);
        deltas.Add(last);

        Assert.That(deltas, Has.Count.EqualTo(2));
        Assert.That(deltas[0].SendDeltaMs, Is.EqualTo(33));
        Assert.That(deltas[0].ArrivalDeltaMs, Is.EqualTo(33));
    }

    [Test]
    public void InterArrival_PacketSentBeforeTheCurrentGroup_IsIgnored()
    {
        var groups = new InterArrival();
        groups.TryAdd(0, 50_000, out _);
        groups.TryAdd(40_000, 90_000, out _);
        Assert.That(groups.TryAdd(10_000, 95_000, out _), Is.False);
        Assert.That(groups.TryAdd(80_000, 130_000, out var delta), Is.True);
        Assert.That(delta.SendDeltaMs, Is.EqualTo(40));
    }

    [Test]
    public void Trendline_GrowingDelay_HasPositiveSlope_SteadyDelay_None()
    {
        var growing = new TrendlineEstimator();
        var steady = new TrendlineEstimator();
        for (var i = 1; i <= 40; i++)
        {
            growing.Update(new GroupDelta(SendDeltaMs: 33, ArrivalDeltaMs: 38, ArrivalTimeUs: i * 38_000L));
            steady.Update(new GroupDelta(SendDeltaMs: 33, ArrivalDeltaMs: 33, ArrivalTimeUs: i * 33_000L));
        }

        // 5 ms of extra delay per 38 ms of arrival time: the smoothed slope approaches 5/38.
        Assert.That(growing.Trend, Is.InRange(0.08, 5.0 / 38));
        Assert.That(steady.Trend, Is.EqualTo(0).Within(1e-9));
    }

    [Test]
    public void Detector_SustainedSlope_IsOveruse_NegativeSlope_IsUnderuse()
    {
        var detector = new OveruseDetector();
        Assert.That(detector.Detect(0.1, 60, 33, 0), Is.EqualTo(BandwidthUsage.Normal), "one group above the threshold is not enough");
        Assert.That(detector.Detect(0.1, 60, 33, 33_000), Is.EqualTo(BandwidthUsage.Overusing));
        Assert.That(detector.Detect(-0.1, 60, 33, 66_000), Is.EqualTo(BandwidthUsage.Underusing));
        Assert.That(detector.Detect(0.001, 60, 33, 99_000), Is.EqualTo(BandwidthUsage.Normal));
    }

    [Test]
    public void Detector_ThresholdRisesTowardsPersistentModestSlopes()
    {
        var detector = new OveruseDetector();
        var initial = detector.ThresholdMs;
        // Modified trend 60 * 0.06 * 4 = 14.4 ms: above the threshold but within its outlier margin.
        for (var i = 0; i < 200; i++) detector.Detect(0.06, 60, 33, i * 33_000L);

        Assert.That(detector.ThresholdMs, Is.GreaterThan(initial));
        Assert.That(detector.ThresholdMs, Is.LessThanOrEqualTo(14.4));
    }
}
