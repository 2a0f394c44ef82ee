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
    public void ProbeCluster_Carries15MsAtItsTarget_InAtLeastFivePackets()
    {
        var cluster = ProbeCluster.For(1, 2_000_000);
        Assert.That(cluster.Bytes, Is.EqualTo(3750));
        Assert.That(cluster.PacketCount * cluster.PaddingPerPacket, Is.InRange(3750 - (4 * cluster.PacketCount), 3750));
        Assert.That(ProbeCluster.For(2, 100_000).PacketCount, Is.EqualTo(ProbeCluster.MinPackets));
        Assert.That(ProbeCluster.For(3, 1_000_000_000).PacketCount, Is.EqualTo(ProbeCluster.MaxPackets));
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
        var probes = new ProbeController(maxBitrate: 20_000_000);
        probes.Start(300_000, 0);
        while (probes.TryNext(300_000, 0, out _)) { }
        probes.OnProbeResult(100_000, 1_800_000);
        probes.SetDesiredBitrate(1_500_000);

        Assert.That(probes.TryNext(600_000, 4_000_000, out _), Is.False);
        Assert.That(probes.TryNext(600_000, 5_000_000, out var cluster), Is.True);
        Assert.That(cluster.TargetBitrate, Is.EqualTo(1_200_000));
        Assert.That(probes.TryNext(1_600_000, 20_000_000, out _), Is.False, "nothing wanted beyond the estimate");
    }

    [Test]
    public void ProbeResult_IsTheArrivalRate_NotAboveTheTarget()
    {
        var results = new ProbeResultEstimator();
        var cluster = ProbeCluster.For(5, 2_000_000);
        results.Begin(cluster);
        long bitrate = 0, target = 0;
        var judged = false;
        // The bottleneck spaces 250-byte packets 2 ms apart: 1 Mbit/s.
        for (var i = 0; i < cluster.PacketCount && !judged; i++) judged = results.OnFeedback(5, true, 250, 10_000 + (i * 2000L), out bitrate, out target);

        Assert.That(judged, Is.True);
        Assert.That((bitrate, target), Is.EqualTo((1_000_000L, 2_000_000L)));

        var fast = new ProbeResultEstimator();
        fast.Begin(ProbeCluster.For(6, 2_000_000));
        judged = false;
        for (var i = 0; i < cluster.PacketCount && !judged; i++) judged = fast.OnFeedback(6, true, 250, 10_000 + (i * 100L), out bitrate, out _);
        Assert.That(bitrate, Is.EqualTo(2_000_000), "capped at the target");
    }
}
