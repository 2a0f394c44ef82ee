using Sfu.Media.Udp;

namespace Sfu.Tests.Media.Udp;

/// <summary>The kernel's wall-clock arrival stamps, moved onto the worker's clock by their age.</summary>
public sealed class ArrivalClockTests
{
    private const long Frequency = 10_000_000; // 100 ns ticks, as TimeProvider.System has on Linux
    private const long WorkerNow = 5_000_000_000;
    private const long WallNow = 1_764_000_000_000_000_000;

    [Test]
    public void AStampedDatagram_ArrivedItsAgeBeforeNow()
    {
        var threeMillisecondsAgo = WallNow - 3_000_000;
        Assert.That(ArrivalClock.ToWorkerTime(threeMillisecondsAgo, WorkerNow, WallNow, Frequency), Is.EqualTo(WorkerNow - 30_000));
    }

    [Test]
    public void AgesKeepTheirNanosecondsOnAFinerClock()
    {
        const long nanosecondTicks = 1_000_000_000;
        Assert.That(ArrivalClock.ToWorkerTime(WallNow - 1_234_567, WorkerNow, WallNow, nanosecondTicks), Is.EqualTo(WorkerNow - 1_234_567));
    }

    [TestCase(null, TestName = "no stamp")]
    [TestCase(WallNow + 1_000, TestName = "a stamp after the wall clock's now: it was stepped back")]
    [TestCase(WallNow - ArrivalClock.MaxAgeNanoseconds - 1, TestName = "older than any datagram waits: it was stepped forward")]
    public void WithoutATrustworthyStamp_TheDatagramArrivedNow(long? stamp) =>
        Assert.That(ArrivalClock.ToWorkerTime(stamp, WorkerNow, WallNow, Frequency), Is.EqualTo(WorkerNow));
}
