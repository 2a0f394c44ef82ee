using Sfu.Media.Rtp;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Rtp;

public class NackGeneratorTests
{
    private readonly ManualClock _clock = new();

    private long Now => _clock.GetTimestamp();

    private ushort[] Due(NackGenerator generator)
    {
        ushort[] buffer = new ushort[64];
        return buffer[..generator.CollectDue(Now, buffer)];
    }

    private PacketArrival Receive(NackGenerator generator, ushort sequence) => generator.OnPacketReceived(sequence, Now);

    [Test]
    public void Gap_IsDueAtOnce_ThenAgainAfterTheDefaultRoundTrip()
    {
        var generator = new NackGenerator(_clock);
        Receive(generator, 10);

        Assert.That(Receive(generator, 13), Is.EqualTo(PacketArrival.Gap));
        Assert.That(Due(generator), Is.EqualTo(new ushort[] { 11, 12 }));
        _clock.Advance(TimeSpan.FromMilliseconds(99));
        Assert.That(Due(generator), Is.Empty, "asked a moment ago: the answer may be on its way");
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(Due(generator), Is.EqualTo(new ushort[] { 11, 12 }));
    }

    [Test]
    public void RetransmissionOfAMissingPacket_IsRecovered_AndNoLongerAskedFor_ButASecondCopyIsOld()
    {
        var generator = new NackGenerator(_clock);
        Receive(generator, 65534);
        Receive(generator, 2);
        Assert.That(Due(generator), Is.EqualTo(new ushort[] { 65535, 0, 1 }));

        Assert.That(Receive(generator, 0), Is.EqualTo(PacketArrival.Recovered));
        Assert.That(Receive(generator, 0), Is.EqualTo(PacketArrival.Old));
        Assert.That(Receive(generator, 3), Is.EqualTo(PacketArrival.InOrder));
        _clock.Advance(NackGenerator.DefaultRoundTrip);
        Assert.That(Due(generator), Is.EqualTo(new ushort[] { 65535, 1 }));
        Assert.That(generator.MissingCount, Is.EqualTo(2));
    }

    [Test]
    public void AnswersToFirstRequests_SetTheRoundTrip_WhichSpacesTheRetries()
    {
        var generator = new NackGenerator(_clock);
        ushort sequence = 100;
        Receive(generator, sequence);
        for (int i = 0; i < 40; i++)
        {
            sequence += 2;
            Receive(generator, sequence);
            Due(generator);
            _clock.Advance(TimeSpan.FromMilliseconds(30));
            Assert.That(Receive(generator, (ushort)(sequence - 1)), Is.EqualTo(PacketArrival.Recovered));
        }

        Assert.That(generator.RoundTrip.TotalMilliseconds, Is.EqualTo(30).Within(1));
        Receive(generator, (ushort)(sequence + 2));
        Assert.That(Due(generator), Is.EqualTo(new[] { (ushort)(sequence + 1) }));
        _clock.Advance(TimeSpan.FromMilliseconds(31));
        Assert.That(Due(generator), Is.EqualTo(new[] { (ushort)(sequence + 1) }), "retried after the measured 30 ms, not the default 100");
    }

    [Test]
    public void AnswerAfterARetry_DoesNotChangeTheRoundTrip()
    {
        var generator = new NackGenerator(_clock);
        Receive(generator, 1);
        Receive(generator, 3);
        Due(generator);
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        Due(generator);
        _clock.Advance(TimeSpan.FromMilliseconds(5));

        Receive(generator, 2);

        Assert.That(generator.RoundTrip, Is.EqualTo(NackGenerator.DefaultRoundTrip), "5 ms answers the retry or the first request: unknown");
    }

    [Test]
    public void MissingPacket_IsAskedForMaxRetriesTimes_AndGivenUpARoundTripAfterTheLast()
    {
        var generator = new NackGenerator(_clock, maxRetries: 3);
        Receive(generator, 1);
        Receive(generator, 3);
        int requests = 0;
        for (int i = 0; i < 3; i++)
        {
            requests += Due(generator).Length;
            _clock.Advance(TimeSpan.FromMilliseconds(50));
            Assert.That(Due(generator), Is.Empty);
            _clock.Advance(TimeSpan.FromMilliseconds(50));
        }

        Assert.That(generator.TakeGivenUp(NackGiveUpReason.Retries), Is.Zero, "the last request still has its round trip");
        Assert.That(Due(generator), Is.Empty);
        Assert.Multiple(() =>
        {
            Assert.That(requests, Is.EqualTo(3));
            Assert.That(generator.TakeGivenUp(NackGiveUpReason.Retries), Is.EqualTo(1));
            Assert.That(generator.TakeGivenUp(NackGiveUpReason.Retries), Is.Zero, "taken once");
            Assert.That(generator.MissingCount, Is.Zero);
            Assert.That(Receive(generator, 2), Is.EqualTo(PacketArrival.Old));
        });
    }

    [Test]
    public void MissingPacket_FallenMaxPacketAgeBehind_IsGivenUpAsTooOld()
    {
        var generator = new NackGenerator(_clock);
        Receive(generator, 1000);
        Receive(generator, 1002);
        Due(generator);
        for (int s = 1003; s <= 1001 + NackGenerator.MaxPacketAge; s++)
        {
            Receive(generator, (ushort)s);
        }

        Assert.That(generator.MissingCount, Is.EqualTo(1));
        Due(generator);
        Assert.That(generator.TakeGivenUp(NackGiveUpReason.TooOld), Is.Zero);
        Receive(generator, (ushort)(1002 + NackGenerator.MaxPacketAge));
        Due(generator);
        Assert.Multiple(() =>
        {
            Assert.That(generator.TakeGivenUp(NackGiveUpReason.TooOld), Is.EqualTo(1));
            Assert.That(generator.MissingCount, Is.Zero);
        });
    }

    [Test]
    public void MoreMissingThanCapacity_GivesThemAllUp_AsOverflow()
    {
        var generator = new NackGenerator(_clock, capacity: 4);
        Receive(generator, 0);
        Receive(generator, 3);

        Assert.That(Receive(generator, 7), Is.EqualTo(PacketArrival.InOrder), "2 missing and 3 more do not fit 4");
        Assert.Multiple(() =>
        {
            Assert.That(Due(generator), Is.Empty);
            Assert.That(generator.TakeGivenUp(NackGiveUpReason.Overflow), Is.EqualTo(5));
        });
    }

    [Test]
    public void HugeJump_IsARestart_NotThousandsLost()
    {
        var generator = new NackGenerator(_clock);
        Receive(generator, 1);
        Receive(generator, 3);

        Assert.That(Receive(generator, 20000), Is.EqualTo(PacketArrival.InOrder));
        Assert.Multiple(() =>
        {
            Assert.That(Due(generator), Is.Empty);
            Assert.That(generator.TakeGivenUp(NackGiveUpReason.TooOld), Is.EqualTo(1), "only the gap open before the jump");
            Assert.That(generator.TakeGivenUp(NackGiveUpReason.Overflow), Is.Zero);
        });
    }

    [Test]
    public void Restart_ForgetsTheGaps_AndTheNumbering()
    {
        var generator = new NackGenerator(_clock);
        Receive(generator, 1);
        Receive(generator, 3);

        generator.Restart();

        Assert.Multiple(() =>
        {
            Assert.That(Receive(generator, 40000), Is.EqualTo(PacketArrival.InOrder));
            Assert.That(Due(generator), Is.Empty);
            Assert.That(generator.TakeGivenUp(NackGiveUpReason.TooOld), Is.Zero);
        });
    }

    [Test]
    public void LossAndRecovery_AfterWarmUp_DoNotAllocate()
    {
        var generator = new NackGenerator(_clock);
        ushort[] due = new ushort[64];

        // The first run warms up (and lets the JIT replace the loop's code); the second, of the same method, is measured.
        Run(generator, due, _clock, 0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(generator, due, _clock, 30_000);

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.EqualTo(0));

        static void Run(NackGenerator generator, ushort[] due, ManualClock clock, int start)
        {
            for (int i = start; i < start + 30_000; i += 3)
            {
                long now = clock.GetTimestamp();
                generator.OnPacketReceived((ushort)i, now); // i + 1 and i + 2 go missing
                generator.CollectDue(now, due);
                generator.OnPacketReceived((ushort)(i - 2), now);
                generator.TakeGivenUp(NackGiveUpReason.Retries);
            }
        }
    }

    [Test]
    public void DueBeyondTheDestination_WaitsForTheNextCall()
    {
        var generator = new NackGenerator(_clock);
        Receive(generator, 0);
        Receive(generator, 101);
        ushort[] buffer = new ushort[64];

        Assert.That(generator.CollectDue(Now, buffer), Is.EqualTo(64));
        Assert.That(generator.CollectDue(Now, buffer), Is.EqualTo(36));
        Assert.That(buffer[0], Is.EqualTo(65));
    }
}
