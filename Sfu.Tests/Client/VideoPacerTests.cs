using Sfu.Client.Media;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Client;

/// <summary>The synthetic publisher's pacer (<see cref="VideoPacer"/>), its rules on a manual clock.</summary>
public sealed class VideoPacerTests
{
    // 1.5 Mbit/s paced at libwebrtc's 2.5 times; a full packet of the synthetic publisher carries 1,100 bytes of payload.
    private const long PacingRate = 3_750_000;
    private const int PacketBytes = 1100;

    /// <summary>How long <see cref="PacketBytes"/> take to drain at <see cref="PacingRate"/>: 2.35 ms.</summary>
    public static readonly TimeSpan PacketTime = TimeSpan.FromTicks(PacketBytes * 8 * TimeSpan.TicksPerSecond / PacingRate);

    [Test]
    public void Pacer_AfterAPacket_HoldsTheNextUntilTheBucketEmptiesWithinTheBurstWindow()
    {
        var clock = new ManualClock();
        var pacer = new VideoPacer(PacingRate, clock.TimestampFrequency);
        pacer.FrameStarted(clock.GetTimestamp());
        Assert.That(pacer.CanSend(clock.GetTimestamp()), Is.True, "an empty bucket lets a frame's first packet go");
        pacer.OnSent(PacketBytes);

        var held = PacketTime - VideoPacer.BurstWindow;
        clock.Advance(held - TimeSpan.FromTicks(1));
        Assert.That(pacer.CanSend(clock.GetTimestamp()), Is.False, "the next packet waits until the bucket is a burst window from empty");
        clock.Advance(TimeSpan.FromTicks(1));
        Assert.That(pacer.CanSend(clock.GetTimestamp()), Is.True, "and goes once it is");
    }

    [Test]
    public void Pacer_IdleTimeBetweenFramesEarnsNoCredit()
    {
        var clock = new ManualClock();
        var pacer = new VideoPacer(PacingRate, clock.TimestampFrequency);
        pacer.FrameStarted(clock.GetTimestamp());
        pacer.OnSent(PacketBytes);
        clock.Advance(TimeSpan.FromSeconds(1));

        pacer.FrameStarted(clock.GetTimestamp());
        pacer.OnSent(PacketBytes);
        Assert.That(pacer.CanSend(clock.GetTimestamp()), Is.False, "a pause before a frame does not turn into a burst");
    }

    [Test]
    public void Pacer_ALateWakeUpInAFrame_SendsWhatFellDueMeanwhile_AndNoMore()
    {
        var clock = new ManualClock();
        var pacer = new VideoPacer(PacingRate, clock.TimestampFrequency);
        pacer.FrameStarted(clock.GetTimestamp());
        pacer.OnSent(PacketBytes);

        // Woken 5 ms later instead of every millisecond: the packets due at 2.35 and 4.69 ms (within the burst
        // window of 5 ms) go now; the one due at 7.04 ms waits, so the frame still ends on schedule.
        clock.Advance(TimeSpan.FromMilliseconds(5));
        var sent = 0;
        while (pacer.CanSend(clock.GetTimestamp()))
        {
            pacer.OnSent(PacketBytes);
            sent++;
        }

        Assert.That(sent, Is.EqualTo(2));
    }

    [Test]
    public void Pacer_PolledEveryMillisecond_SendsAtThePacingRate()
    {
        var clock = new ManualClock();
        var pacer = new VideoPacer(PacingRate, clock.TimestampFrequency);
        pacer.FrameStarted(clock.GetTimestamp());
        var sent = 0;
        for (var ms = 0; ms < 1000; ms++)
        {
            while (pacer.CanSend(clock.GetTimestamp()))
            {
                pacer.OnSent(PacketBytes);
                sent++;
            }
            clock.Advance(TimeSpan.FromMilliseconds(1));
        }

        // 3.75 Mbit/s of 1,100-byte packets is 426.1 a second; the first goes on an empty bucket.
        Assert.That(sent, Is.InRange(426, 428));
    }
}
