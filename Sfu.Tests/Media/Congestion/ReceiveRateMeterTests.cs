using Sfu.Media.Congestion;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Congestion;

public class ReceiveRateMeterTests
{
    [Test]
    public void Rate_IsTheBytesOfTheLastSecond_InClosedBuckets()
    {
        var clock = new ManualClock();
        var meter = new ReceiveRateMeter(clock.TimestampFrequency);
        Assert.That(meter.BitsPerSecond(clock.GetTimestamp()), Is.Zero, "nothing measured yet");

        // 1250 bytes every 10 ms for 2 s: 1 Mbit/s.
        for (var i = 0; i < 200; i++)
        {
            meter.Add(1250);
            clock.Advance(TimeSpan.FromMilliseconds(10));
            var rate = meter.BitsPerSecond(clock.GetTimestamp()); // as the worker's tick does
            if (i == 49) Assert.That(rate, Is.EqualTo(1_000_000), "half a second in: the closed buckets only");
        }

        Assert.That(meter.BitsPerSecond(clock.GetTimestamp()), Is.EqualTo(1_000_000));
    }

    [Test]
    public void Rate_FallsAsTheWindowMovesPastTheTraffic_AndResetsAfterSilence()
    {
        var clock = new ManualClock();
        var meter = new ReceiveRateMeter(clock.TimestampFrequency);
        meter.BitsPerSecond(clock.GetTimestamp());
        for (var i = 0; i < 100; i++)
        {
            meter.Add(1250);
            clock.Advance(TimeSpan.FromMilliseconds(10));
            meter.BitsPerSecond(clock.GetTimestamp());
        }
        Assert.That(meter.BitsPerSecond(clock.GetTimestamp()), Is.EqualTo(1_000_000));

        clock.Advance(TimeSpan.FromMilliseconds(500));
        Assert.That(meter.BitsPerSecond(clock.GetTimestamp()), Is.EqualTo(500_000), "half the window is silent");

        clock.Advance(TimeSpan.FromSeconds(5));
        Assert.That(meter.BitsPerSecond(clock.GetTimestamp()), Is.Zero);
    }
}
