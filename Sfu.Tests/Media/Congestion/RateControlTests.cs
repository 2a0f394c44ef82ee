using Sfu.Media.Congestion;

namespace Sfu.Tests.Media.Congestion;

/// <summary>AIMD, the loss-based rule and the acknowledged rate, each on its own.</summary>
public class RateControlTests
{
    [Test]
    public void Aimd_Overuse_CutsTo85PercentOfAcknowledged()
    {
        var aimd = new AimdRateControl(1_000_000, 50_000, 10_000_000);
        Assert.That(aimd.Update(BandwidthUsage.Overusing, 800_000, 100_000, 0), Is.EqualTo(680_000));
    }

    [Test]
    public void Aimd_Normal_IncreasesAbout8PercentASecond_CappedByThroughput()
    {
        var aimd = new AimdRateControl(1_000_000, 50_000, 10_000_000);
        aimd.Update(BandwidthUsage.Normal, 0, 100_000, 0);
        for (var ms = 100; ms <= 1000; ms += 100) aimd.Update(BandwidthUsage.Normal, 0, 100_000, ms * 1000L);
        Assert.That(aimd.Bitrate, Is.InRange(1_070_000, 1_090_000));

        var capped = new AimdRateControl(1_000_000, 50_000, 10_000_000);
        capped.Update(BandwidthUsage.Normal, 300_000, 100_000, 0);
        for (var ms = 100; ms <= 5000; ms += 100) capped.Update(BandwidthUsage.Normal, 300_000, 100_000, ms * 1000L);
        Assert.That(capped.Bitrate, Is.EqualTo(1_000_000), "no increase beyond 1.5 x acknowledged, and no decrease either");
    }

    [Test]
    public void Aimd_NearKnownCapacity_IncreasesAdditively()
    {
        var aimd = new AimdRateControl(1_000_000, 50_000, 10_000_000);
        aimd.Update(BandwidthUsage.Overusing, 1_000_000, 100_000, 0); // capacity learnt near 1 Mbit/s, rate 850k
        aimd.Update(BandwidthUsage.Normal, 850_000, 100_000, 100_000);
        var start = aimd.Bitrate;
        for (var ms = 200; ms <= 1100; ms += 100) aimd.Update(BandwidthUsage.Normal, 850_000, 100_000, ms * 1000L);

        // One ~1200-byte packet per 200 ms response time: ~47 kbit/s a second, well under 8 %.
        Assert.That(aimd.Bitrate - start, Is.InRange(20_000, 60_000));
    }

    [Test]
    public void LossBased_IncreasesHoldsAndDecreasesByLossBand()
    {
        var loss = new LossBasedControl(50_000, 10_000_000);
        loss.Update(1_000_000, 0, 0, 100_000, 0);
        Assert.That(loss.Update(1_000_000, 0.01, 0, 100_000, 1_000_000), Is.EqualTo(1_081_000));
        Assert.That(loss.Update(1_000_000, 0.05, 0, 100_000, 2_000_000), Is.EqualTo(1_000_000));
        Assert.That(loss.Update(1_000_000, 0.2, 0, 100_000, 3_000_000), Is.EqualTo(900_000));
        Assert.That(loss.Update(900_000, 0.2, 0, 100_000, 3_100_000), Is.EqualTo(900_000), "one cut per round trip + 300 ms");
    }

    [Test]
    public void LossBased_NeverCutsBelowWhatTheReceiverGot()
    {
        // A shaped link that drops most of a burst: 60 % loss, while it delivered 400 kbit/s.
        var loss = new LossBasedControl(50_000, 10_000_000);
        Assert.That(loss.Update(500_000, 0.6, 400_000, 100_000, 1_000_000), Is.EqualTo(400_000), "not 350 kbit/s");
        Assert.That(loss.Update(400_000, 0.6, 450_000, 100_000, 2_000_000), Is.EqualTo(400_000), "a floor, never an increase");
        Assert.That(loss.Update(400_000, 0.6, 100_000, 100_000, 3_000_000), Is.EqualTo(280_000), "the plain cut when little got through");
    }

    [Test]
    public void Aimd_OneQueue_IsCutForOnce_NotInEveryReport_AndNeverMoreThanHalved()
    {
        var aimd = new AimdRateControl(1_000_000, 50_000, 10_000_000);
        Assert.That(aimd.Update(BandwidthUsage.Overusing, 800_000, 300_000, 0), Is.EqualTo(680_000));
        // Reports 50 ms apart keep saying overuse while the queue drains, with less acknowledged each time.
        Assert.That(aimd.Update(BandwidthUsage.Overusing, 700_000, 300_000, 50_000), Is.EqualTo(680_000));
        Assert.That(aimd.Update(BandwidthUsage.Overusing, 600_000, 300_000, 150_000), Is.EqualTo(680_000));
        Assert.That(aimd.Update(BandwidthUsage.Overusing, 600_000, 300_000, 200_000), Is.EqualTo(510_000), "a round trip (up to 200 ms) later");
        Assert.That(aimd.Update(BandwidthUsage.Overusing, 100_000, 300_000, 250_000), Is.EqualTo(510_000), "not even when little got through");
        Assert.That(aimd.Update(BandwidthUsage.Overusing, 100_000, 300_000, 400_000), Is.EqualTo(255_000), "then at most halved at once");
    }

    [Test]
    public void AcknowledgedBitrate_MeasuresWhatArrived()
    {
        var acked = new AcknowledgedBitrate();
        // 1200 bytes every 8 ms = 1.2 Mbit/s for a second.
        for (long t = 0; t < 1_000_000; t += 8_000) acked.OnPacketAcknowledged(1200, t);
        Assert.That(acked.Bitrate, Is.InRange(1_100_000, 1_300_000));

        // Then half the rate: within the 500 ms window the figure follows.
        for (long t = 1_000_000; t < 1_700_000; t += 16_000) acked.OnPacketAcknowledged(1200, t);
        Assert.That(acked.Bitrate, Is.InRange(550_000, 650_000));
    }
}
