using Sfu.Media.Congestion;

namespace Sfu.Tests.Media.Congestion;

/// <summary>The send history, probe clusters, when probes go out, and what a probe's feedback measures.</summary>
public class ProbingTests
{
    [Test]
    public void SendHistory_NumbersWrap_AndOnlyRecentPacketsAreKept()
    {
        var history = new SendHistory();
        var first = history.NextSequenceNumber;
        for (var i = 0; i < 70_000; i++) history.Add(100 + (i % 7), i, 0);

        var last = (ushort)(first + 69_999);
        Assert.That(history.NextSequenceNumber, Is.EqualTo((ushort)(last + 1)));
        Assert.That(history.TryGet(last, out var packet), Is.True);
        Assert.That(packet, Is.EqualTo(new SentPacket(69_999, 100 + (69_999 % 7), 0)));
        Assert.That(history.TryGet((ushort)(last - SendHistory.Capacity + 1), out _), Is.True);
        Assert.That(history.TryGet((ushort)(last - SendHistory.Capacity), out _), Is.False, "overwritten");
        Assert.That(history.TryGet((ushort)(last + 1), out _), Is.False, "not sent yet");
    }

    [Test]
    public void ProbeCluster_Carries100MsAtItsTarget_Bounded_AndShortenedFarAboveTheEstimate()
    {
        var cluster = ProbeCluster.For(1, 800_000, 400_000);
        Assert.That((cluster.Bytes, cluster.DurationUs), Is.EqualTo((10_000, 100_000L)));
        Assert.That(ProbeCluster.For(2, 100_000, 50_000).Bytes, Is.EqualTo(ProbeCluster.MinBytes));
        Assert.That(ProbeCluster.For(3, 1_000_000_000, 900_000_000).Bytes, Is.EqualTo(ProbeCluster.MaxBytes));
        // 2.55 Mbit/s on a link estimated at 340 kbit/s: at most 8 KB more than the estimate would send in its time.
        var recovery = ProbeCluster.For(4, 2_550_000, 340_000);
        var excess = recovery.Bytes - (340_000 * recovery.DurationUs / 8 / 1_000_000);
        Assert.That(excess, Is.InRange(ProbeCluster.MaxExcessBytes - 10, ProbeCluster.MaxExcessBytes));
    }

    [Test]
    public void Pacer_SpreadsAClusterOverTicks_CountingMedia_AndEndsOnTime()
    {
        var pacer = new ProbePacer();
        var cluster = ProbeCluster.For(7, 800_000, 400_000); // 10 000 bytes over 100 ms
        pacer.Start(cluster, 1_000_000);

        // Each 20 ms tick is due one more slot's worth: 2000 bytes.
        Assert.That(pacer.PaddingDue(1_000_000), Is.EqualTo(2000));
        Assert.That(pacer.OnSent(1500), Is.EqualTo(7), "a packet sent now belongs to the cluster");
        Assert.That(pacer.PaddingDue(1_000_000), Is.EqualTo(500));
        pacer.OnSent(500);
        Assert.That(pacer.PaddingDue(1_005_000), Is.EqualTo(500), "the schedule is continuous: 5 ms more is 500 bytes");
        Assert.That(pacer.PaddingDue(1_020_000), Is.EqualTo(2000));
        pacer.OnSent(2000);
        // A tick 60 ms late: only two slots are made up, not a burst of three.
        Assert.That(pacer.PaddingDue(1_080_000), Is.EqualTo(4000));
        Assert.That(pacer.TryEnd(1_099_000, out _, out _), Is.False);
        Assert.That(pacer.TryEnd(1_100_000, out var id, out var packets), Is.True);
        Assert.That((id, packets), Is.EqualTo((7, 3)));
        Assert.That((pacer.IsActive, pacer.OnSent(100), pacer.PaddingDue(1_100_000)), Is.EqualTo((false, 0, 0)));
    }

    [Test]
    public void Controller_StartsWithTwoClusters_ThenDoublesWhileTheyPass()
    {
        var probes = new ProbeController(maxBitrate: 20_000_000);
        probes.Start(300_000, 0);
        Assert.That(probes.TryNext(300_000, 0, out var first), Is.True);
        Assert.That(probes.TryNext(300_000, 0, out var second), Is.True);
        Assert.That((first.TargetBitrate, second.TargetBitrate), Is.EqualTo((900_000L, 1_800_000L)));
        Assert.That(probes.TryNext(300_000, 0, out _), Is.False);

        probes.OnProbeResult(900_000, 900_000); // only the highest cluster decides
        Assert.That(probes.TryNext(900_000, 10_000, out _), Is.False);
        probes.OnProbeResult(1_700_000, 1_800_000);
        Assert.That(probes.TryNext(1_700_000, 20_000, out var third), Is.True);
        Assert.That(third.TargetBitrate, Is.EqualTo(3_400_000));
        probes.OnProbeResult(1_000_000, 3_400_000); // the link stopped at ~1 Mbit/s: stop doubling
        Assert.That(probes.TryNext(1_000_000, 30_000, out _), Is.False);
    }

    [Test]
    public void Controller_AfterADrop_ProbesOnceASecondLater_AtMostOfTheFormerRate()
    {
        var probes = new ProbeController(maxBitrate: 20_000_000);
        probes.Start(300_000, 0);
        while (probes.TryNext(300_000, 0, out _)) { }
        probes.OnProbeResult(100_000, 1_800_000); // end the start-up phase
        probes.OnEstimate(2_000_000, 10_000_000);
        probes.OnEstimate(1_000_000, 10_500_000);

        Assert.That(probes.TryNext(1_000_000, 11_000_000, out _), Is.False);
        Assert.That(probes.TryNext(1_000_000, 11_500_000, out var cluster), Is.True);
        Assert.That(cluster.TargetBitrate, Is.EqualTo(1_700_000));
    }

    [Test]
    public void Controller_WhenMoreIsWanted_ProbesEveryFiveSeconds()
    {
        var probes = MidCall(desired: 1_500_000);

        Assert.That(probes.TryNext(600_000, 4_000_000, out _), Is.False);
        Assert.That(probes.TryNext(600_000, 5_000_000, out var cluster), Is.True);
        Assert.That(cluster.TargetBitrate, Is.EqualTo(1_200_000));
        Assert.That(probes.TryNext(1_600_000, 20_000_000, out _), Is.False, "nothing wanted beyond the estimate");
    }

    [Test]
    public void Controller_AMidCallProbeThatPasses_IsFollowedAtOnce_UpToWhatIsWanted()
    {
        var probes = MidCall(desired: 910_000);

        Assert.That(probes.TryNext(350_000, 5_000_000, out var periodic), Is.True);
        Assert.That(periodic.TargetBitrate, Is.EqualTo(700_000));
        probes.OnProbeResult(700_000, 700_000);
        Assert.That(probes.TryNext(700_000, 5_300_000, out var follow), Is.True, "not five seconds later");
        Assert.That(follow.TargetBitrate, Is.EqualTo(1_137_500), "twice the result, but only a quarter above what is wanted");
        probes.OnProbeResult(1_137_500, 1_137_500);
        Assert.That(probes.TryNext(1_137_500, 5_600_000, out _), Is.False);

        // Behind a 400 kbit/s link the next periodic probe finds ~420: no follow-up.
        Assert.That(probes.TryNext(400_000, 10_600_000, out var throttled), Is.True);
        probes.OnProbeResult(420_000, throttled.TargetBitrate);
        Assert.That(probes.TryNext(420_000, 10_900_000, out _), Is.False);
    }

    [Test]
    public void ProbeResult_IsTheArrivalRateOfTheSecondHalf_NotAboveTheTarget()
    {
        // 10 000 bytes at 800 kbit/s through a 400 kbit/s token bucket with a 3000-byte burst: the first 6000 bytes
        // pass at the sender's pace (the bucket drains at 50 KB/s net), the rest at the link's 400 kbit/s.
        var cluster = ProbeCluster.For(5, 800_000, 400_000);
        var results = new ProbeResultEstimator();
        results.Begin(cluster, 0);
        results.End(5, 40);
        long bitrate = 0, target = 0;
        var judged = false;
        for (var i = 0; i < 40 && !judged; i++)
        {
            var sentUs = i * 2_500L; // 250 bytes every 2.5 ms
            var arrivalUs = i < 24 ? sentUs : 60_000 + ((i - 23) * 5_000L);
            judged = results.OnFeedback(5, true, 250, sentUs, 10_000 + arrivalUs, out bitrate, out target);
        }
        Assert.That(judged, Is.True);
        Assert.That(target, Is.EqualTo(800_000));
        Assert.That(bitrate, Is.InRange(380_000, 420_000), "the link's rate (95 % of it), not the bucket's burst");

        var fast = new ProbeResultEstimator();
        fast.Begin(ProbeCluster.For(6, 2_000_000, 1_000_000), 0);
        fast.End(6, 40);
        judged = false;
        for (var i = 0; i < 40 && !judged; i++) judged = fast.OnFeedback(6, true, 250, i * 1000L, 10_000 + (i * 100L), out bitrate, out _);
        Assert.That(bitrate, Is.EqualTo(2_000_000), "capped at the target");

        // Late ticks sent the cluster at half its target, and the link carried all of it: it proved that much, no more.
        var slow = new ProbeResultEstimator();
        slow.Begin(ProbeCluster.For(7, 800_000, 400_000), 0);
        slow.End(7, 20);
        judged = false;
        for (var i = 0; i < 20 && !judged; i++) judged = slow.OnFeedback(7, true, 250, i * 5_000L, 10_000 + (i * 5_000L), out bitrate, out _);
        Assert.That(bitrate, Is.EqualTo(400_000), "the send rate, not 95 % of it");
    }

    [Test]
    public void ProbeResult_WaitsForTheClusterToEnd_AndALostClusterFindsNothing()
    {
        var results = new ProbeResultEstimator();
        results.Begin(ProbeCluster.For(8, 800_000, 400_000), 0);
        for (var i = 0; i < 10; i++) Assert.That(results.OnFeedback(8, true, 250, i * 2_500L, i * 2_500L, out _, out _), Is.False, "still running");
        results.End(8, 20);
        var judged = false;
        for (var i = 10; i < 20 && !judged; i++) judged = results.OnFeedback(8, i % 2 == 0, 250, i * 2_500L, i * 2_500L, out _, out _);
        Assert.That(judged, Is.False, "a quarter lost: the link did not carry it");
    }

    /// <summary>A controller past its start-up probes (the link stopped them), whose allocator wants <paramref name="desired"/>.</summary>
    private static ProbeController MidCall(long desired)
    {
        var probes = new ProbeController(maxBitrate: 20_000_000);
        probes.Start(300_000, 0);
        while (probes.TryNext(300_000, 0, out _)) { }
        probes.OnProbeResult(100_000, 1_800_000);
        probes.SetDesiredBitrate(desired);
        return probes;
    }
}
