using Sfu.Media.Rtp;

namespace Sfu.Tests.Media.Rtp;

public class SequenceNumberRewriterTests
{
    private const long Frequency = TimeSpan.TicksPerSecond;
    private static readonly long Ms = TimeSpan.TicksPerMillisecond;

    [Test]
    public void FirstSource_PassesThroughUnchanged_AcrossWraparound()
    {
        var rewriter = new SequenceNumberRewriter(90000, Frequency);

        Assert.That(rewriter.TryRewrite(1, 65534, 1000, 0, out ushort s1, out uint t1), Is.True);
        Assert.That(rewriter.TryRewrite(1, 65535, 1000, 0, out ushort s2, out _), Is.True);
        Assert.That(rewriter.TryRewrite(1, 0, 4000, 33 * Ms, out ushort s3, out uint t3), Is.True);

        Assert.That((s1, s2, s3), Is.EqualTo(((ushort)65534, (ushort)65535, (ushort)0)));
        Assert.That((t1, t3), Is.EqualTo((1000u, 4000u)));
        Assert.That(rewriter.LastSequenceNumber, Is.EqualTo(0));
    }

    [Test]
    public void SwitchToAnotherSource_ContinuesAtLastPlusOne_WithWallClockTimestampGap()
    {
        var rewriter = new SequenceNumberRewriter(90000, Frequency);
        rewriter.TryRewrite(1, 100, 50_000, 0, out _, out _);
        rewriter.TryRewrite(1, 101, 53_000, 33 * Ms, out _, out _);

        rewriter.RequestSwitch();
        Assert.That(rewriter.TryRewrite(2, 40_000, 7_000_000, 133 * Ms, out ushort seq, out uint ts), Is.True);

        Assert.That(seq, Is.EqualTo(102));
        // 100 ms after the last forwarded packet at 90 kHz = 9000 ticks.
        Assert.That(ts, Is.EqualTo(53_000u + 9000u));
        Assert.That(rewriter.TryRewrite(2, 40_001, 7_003_000, 166 * Ms, out ushort next, out uint nextTs), Is.True);
        Assert.That((next, nextTs), Is.EqualTo(((ushort)103, 53_000u + 9000u + 3000u)));
    }

    [Test]
    public void AfterSwitch_PacketsFromOldSource_AreDropped()
    {
        var rewriter = new SequenceNumberRewriter(90000, Frequency);
        rewriter.TryRewrite(1, 10, 0, 0, out _, out _);
        rewriter.RequestSwitch();
        rewriter.TryRewrite(2, 500, 0, Ms, out _, out _);

        Assert.That(rewriter.TryRewrite(1, 11, 0, 2 * Ms, out _, out _), Is.False);
        Assert.That(rewriter.LastSequenceNumber, Is.EqualTo(11), "the dropped packet changed nothing");
    }

    [Test]
    public void AfterSwitch_LatePacketOfNewSourceOlderThanSwitchPoint_IsDropped()
    {
        var rewriter = new SequenceNumberRewriter(90000, Frequency);
        rewriter.TryRewrite(1, 10, 0, 0, out _, out _);
        rewriter.RequestSwitch();
        rewriter.TryRewrite(2, 0, 0, Ms, out ushort first, out _); // the switch point is exactly at a wrap

        Assert.That(rewriter.TryRewrite(2, 65535, 0, 2 * Ms, out _, out _), Is.False);
        Assert.That(rewriter.TryRewrite(2, 1, 0, 3 * Ms, out ushort second, out _), Is.True);
        Assert.That(second, Is.EqualTo((ushort)(first + 1)));
    }

    [Test]
    public void ReorderedPacketWithinSource_MapsConsistently_AndDoesNotMoveLast()
    {
        var rewriter = new SequenceNumberRewriter(90000, Frequency);
        rewriter.TryRewrite(1, 10, 0, 0, out _, out _);
        rewriter.RequestSwitch();
        rewriter.TryRewrite(2, 1000, 90_000, Ms, out ushort a, out _);
        rewriter.TryRewrite(2, 1002, 93_000, 2 * Ms, out ushort c, out uint tc);

        Assert.That(rewriter.TryRewrite(2, 1001, 90_000, 3 * Ms, out ushort b, out _), Is.True);

        Assert.That(new[] { a, b, c }, Is.EqualTo(new ushort[] { 11, 12, 13 }));
        Assert.That(b, Is.EqualTo((ushort)(a + 1)));
        Assert.That(rewriter.LastSequenceNumber, Is.EqualTo(c));
        Assert.That(rewriter.LastTimestamp, Is.EqualTo(tc));
    }

    [Test]
    public void GapWithinSource_IsPreserved_SoTheReceiverCanNack()
    {
        var rewriter = new SequenceNumberRewriter(48000, Frequency);
        rewriter.TryRewrite(1, 65530, 0, 0, out ushort a, out _);

        rewriter.TryRewrite(1, 4, 0, 0, out ushort b, out _);

        Assert.That((ushort)(b - a), Is.EqualTo(10));
    }

    [Test]
    public void PauseAndResumeOnSameSource_ContinuesWithoutGap()
    {
        var rewriter = new SequenceNumberRewriter(48000, Frequency);
        rewriter.TryRewrite(7, 200, 960, 0, out _, out _);
        // Paused: 300 packets not forwarded. Resume is a switch to the same SSRC.
        rewriter.RequestSwitch();

        rewriter.TryRewrite(7, 500, 960 * 301, 6000 * Ms, out ushort seq, out uint ts);

        Assert.That(seq, Is.EqualTo(201));
        Assert.That(ts, Is.EqualTo(960u + (6u * 48000u)));
        Assert.That(rewriter.TryRewrite(7, 499, 0, 6001 * Ms, out _, out _), Is.False, "sent while paused");
    }

    [Test]
    public void SwitchWithNoTimeElapsed_StillAdvancesTimestamp()
    {
        var rewriter = new SequenceNumberRewriter(90000, Frequency);
        rewriter.TryRewrite(1, 1, 5000, 10 * Ms, out _, out _);
        rewriter.RequestSwitch();

        rewriter.TryRewrite(2, 9, 1, 10 * Ms, out _, out uint ts);

        Assert.That(ts, Is.EqualTo(5001u));
    }

    [Test]
    public void SwitchAfterLongPause_DoesNotOverflow()
    {
        var rewriter = new SequenceNumberRewriter(90000, 1_000_000_000);
        rewriter.TryRewrite(1, 1, 0, 0, out _, out _);
        rewriter.RequestSwitch();

        long thirtyHours = 30L * 3600 * 1_000_000_000;
        rewriter.TryRewrite(2, 1, 0, thirtyHours, out _, out uint ts);

        Assert.That(ts, Is.EqualTo(unchecked((uint)(30L * 3600 * 90000))));
    }

    [Test]
    public void SkippedPacket_LeavesNoGap_AndALatePacketBeforeItGetsTheNumberItsPlaceGivesIt()
    {
        var rewriter = new SequenceNumberRewriter(90000, Frequency);
        rewriter.TryRewrite(1, 100, 0, 0, out _, out _);
        rewriter.Skip(1, 102); // 101 is late
        rewriter.Skip(1, 103);

        Assert.That(rewriter.TryRewrite(1, 104, 3000, Ms, out ushort next, out _), Is.True);
        Assert.That(next, Is.EqualTo(102), "101 keeps its place for when it arrives; 102 and 103 are gone");
        Assert.That(rewriter.TryRewrite(1, 101, 0, 2 * Ms, out ushort late, out _), Is.True);
        Assert.That(late, Is.EqualTo(101), "the gap the subscriber saw");
        Assert.That(rewriter.LastSequenceNumber, Is.EqualTo(102), "a late packet is not the newest");
    }

    [Test]
    public void SkippedPacket_ArrivingAgain_IsNeverSent()
    {
        var rewriter = new SequenceNumberRewriter(90000, Frequency);
        rewriter.TryRewrite(1, 100, 0, 0, out _, out _);
        rewriter.Skip(1, 101);
        rewriter.TryRewrite(1, 102, 0, 0, out _, out _);

        Assert.That(rewriter.TryRewrite(1, 101, 0, Ms, out _, out _), Is.False, "a retransmission of a layer left out");
    }

    [Test]
    public void LatePacket_OlderThanTheWindow_IsDropped_AndOldSkipsAreForgottenAcrossTheWrap()
    {
        var rewriter = new SequenceNumberRewriter(90000, Frequency);
        ushort sequence = 65000;
        rewriter.TryRewrite(1, sequence, 0, 0, out ushort first, out _);
        // Every other packet left out, for longer than the window, across the 16-bit wrap.
        for (var i = 1; i <= 3 * SequenceNumberRewriter.SkipWindow; i++)
        {
            sequence++;
            if (i % 2 == 0) rewriter.Skip(1, sequence);
            else rewriter.TryRewrite(1, sequence, 0, 0, out _, out _);
        }
        var newest = rewriter.LastSequenceNumber;
        Assert.That(newest, Is.EqualTo((ushort)(first + (3 * SequenceNumberRewriter.SkipWindow / 2))));

        // One that was sent, but further back than the window: its place can no longer be worked out.
        Assert.That(rewriter.TryRewrite(1, (ushort)(sequence - SequenceNumberRewriter.SkipWindow - 1), 0, 0, out _, out _), Is.False);
        // One that was sent, three back (two skips after it): the number it went out with, as for a duplicate.
        Assert.That(rewriter.TryRewrite(1, (ushort)(sequence - 3), 0, 0, out ushort again, out _), Is.True);
        Assert.That(again, Is.EqualTo((ushort)(newest - 1)));
    }

    [Test]
    public void Skip_OfAnotherSourceOrBeforeAnyPacket_ChangesNothing()
    {
        var rewriter = new SequenceNumberRewriter(90000, Frequency);
        rewriter.Skip(1, 5);
        rewriter.TryRewrite(1, 10, 0, 0, out _, out _);
        rewriter.Skip(2, 11);

        Assert.That(rewriter.TryRewrite(1, 11, 0, Ms, out ushort next, out _), Is.True);
        Assert.That(next, Is.EqualTo(11));
    }
}
