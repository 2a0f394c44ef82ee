using Sfu.Media.Congestion;
using Sfu.Media.Rtcp;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Congestion;

public class TransportCcFeedbackRecorderTests
{
    private const uint Sender = 0x11111111;
    private const uint Media = 0x22222222;
    private const long Microseconds = 1_000_000;

    [Test]
    public void Feedback_IsDueAtOnce_ThenEveryInterval_AndNeverWithNothingNew()
    {
        var clock = new ManualClock();
        var recorder = new TransportCcFeedbackRecorder(clock.TimestampFrequency, 1200);
        Assert.That(recorder.Interval, Is.EqualTo(TimeSpan.FromMilliseconds(100)), "libwebrtc's default before a rate is known");
        Assert.That(recorder.BeginFeedback(clock.GetTimestamp()), Is.False, "nothing received");

        recorder.OnPacket(1, Media, clock.GetTimestamp());
        Assert.That(recorder.BeginFeedback(clock.GetTimestamp()), Is.True, "the first packet is reported on the next tick");
        Assert.That(WriteRound(recorder), Has.Count.EqualTo(1));

        clock.Advance(TimeSpan.FromMilliseconds(20));
        recorder.OnPacket(2, Media, clock.GetTimestamp());
        clock.Advance(TimeSpan.FromMilliseconds(79));
        Assert.That(recorder.BeginFeedback(clock.GetTimestamp()), Is.False, "99 ms after the last feedback");
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(recorder.BeginFeedback(clock.GetTimestamp()), Is.True, "100 ms after the last feedback");
        var round = WriteRound(recorder);
        Assert.That(round.Select(p => (p.BaseSequenceNumber, p.PacketStatusCount)), Is.EqualTo(new[] { ((ushort)2, (ushort)1) }), "only what is new");

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.That(recorder.BeginFeedback(clock.GetTimestamp()), Is.False, "no packet since the last feedback");
    }

    [Test]
    public void PacketThreshold_MakesFeedbackDueBeforeTheInterval()
    {
        var clock = new ManualClock();
        var recorder = new TransportCcFeedbackRecorder(clock.TimestampFrequency, 1200);
        recorder.OnPacket(0, Media, clock.GetTimestamp());
        Assert.That(recorder.BeginFeedback(clock.GetTimestamp()), Is.True);
        WriteRound(recorder);

        clock.Advance(TimeSpan.FromMilliseconds(10));
        for (var i = 1; i < TransportCcFeedbackRecorder.PacketThreshold; i++) recorder.OnPacket((ushort)i, Media, clock.GetTimestamp());
        Assert.That(recorder.BeginFeedback(clock.GetTimestamp()), Is.False, "one packet short of the threshold, 10 ms into the interval");

        recorder.OnPacket(TransportCcFeedbackRecorder.PacketThreshold, Media, clock.GetTimestamp());
        Assert.That(recorder.BeginFeedback(clock.GetTimestamp()), Is.True);
        var round = WriteRound(recorder);
        Assert.That(round.Sum(p => p.ReceivedCount), Is.EqualTo(TransportCcFeedbackRecorder.PacketThreshold));
    }

    [TestCase(10_000_000, 50)]
    [TestCase(100_000, 50)]
    [TestCase(20_000, 224)]
    [TestCase(5_000, 250)]
    [TestCase(0, 250)]
    public void Interval_FollowsTheRate_Within50To250Ms(long bitsPerSecond, int expectedMs)
    {
        var clock = new ManualClock();
        var recorder = new TransportCcFeedbackRecorder(clock.TimestampFrequency, 1200);

        recorder.SetBitrate(bitsPerSecond);

        Assert.That(recorder.Interval.TotalMilliseconds, Is.EqualTo(expectedMs).Within(0.001));
        recorder.OnPacket(0, Media, clock.GetTimestamp());
        Assert.That(recorder.BeginFeedback(clock.GetTimestamp()), Is.True);
        WriteRound(recorder);
        recorder.OnPacket(1, Media, clock.GetTimestamp());
        clock.Advance(TimeSpan.FromMilliseconds(expectedMs - 1));
        Assert.That(recorder.BeginFeedback(clock.GetTimestamp()), Is.False);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(recorder.BeginFeedback(clock.GetTimestamp()), Is.True);
    }

    [Test]
    public void LatePacket_ReportedLostFirst_IsReportedReceivedInTheNextFeedback()
    {
        var recorder = new TransportCcFeedbackRecorder(Microseconds, 1200);
        recorder.OnPacket(0, Media, 64_000);
        recorder.OnPacket(1, Media, 65_000);
        recorder.OnPacket(3, Media, 66_000);

        Assert.That(recorder.BeginFeedback(66_000), Is.True);
        // Base 0, statuses received, received, lost, received (2-bit vector), deltas 0, 4, 4 ticks.
        Assert.That(WriteRoundHex(recorder), Is.EqualTo(new[] { "AFCD0006" + "11111111" + "22222222" + "0000" + "0004" + "000001" + "00" + "D440" + "000404" + "000003" }));

        recorder.OnPacket(2, Media, 70_000);
        Assert.That(recorder.BeginFeedback(200_000), Is.True);
        // From 2 again, as libwebrtc does: 2 received 6 ms after the reference, 3 (again) 4 ms before 2.
        Assert.That(WriteRoundHex(recorder), Is.EqualTo(new[] { "AFCD0006" + "11111111" + "22222222" + "0002" + "0002" + "000001" + "01" + "D800" + "18" + "FFF0" + "000003" }));
    }

    [Test]
    public void PacketsThatNeverArrive_AreReportedLostOnce()
    {
        var recorder = new TransportCcFeedbackRecorder(Microseconds, 1200);
        recorder.OnPacket(10, Media, 1_000);
        recorder.OnPacket(15, Media, 2_000);
        Assert.That(recorder.BeginFeedback(2_000), Is.True);
        var first = WriteRound(recorder).Single();
        Assert.That((first.BaseSequenceNumber, first.PacketStatusCount, first.ReceivedCount), Is.EqualTo(((ushort)10, (ushort)6, 2)));

        recorder.OnPacket(16, Media, 3_000);
        Assert.That(recorder.BeginFeedback(200_000), Is.True);
        var second = WriteRound(recorder).Single();
        Assert.That((second.BaseSequenceNumber, second.PacketStatusCount, second.ReceivedCount), Is.EqualTo(((ushort)16, (ushort)1, 1)));
    }

    [Test]
    public void SequenceNumbers_WrapFrom65535To0_InOneFeedback()
    {
        var recorder = new TransportCcFeedbackRecorder(Microseconds, 1200);
        foreach (var sequence in new ushort[] { 65533, 65534, 65535, 0, 1, 2 }) recorder.OnPacket(sequence, Media, 10_000);

        Assert.That(recorder.BeginFeedback(10_000), Is.True);
        var feedback = WriteRound(recorder).Single();

        Assert.That((feedback.BaseSequenceNumber, feedback.PacketStatusCount, feedback.ReceivedCount), Is.EqualTo(((ushort)65533, (ushort)6, 6)));
    }

    [Test]
    public void DeltaTooLargeFor16Bits_StartsANewFeedbackPacketInTheSameRound()
    {
        var recorder = new TransportCcFeedbackRecorder(Microseconds, 1200);
        recorder.OnPacket(0, Media, 0);
        recorder.OnPacket(1, Media, 10_000_000); // 10 s later: 40000 ticks of 250 µs.

        Assert.That(recorder.BeginFeedback(10_000_000), Is.True);
        var round = WriteRound(recorder);

        Assert.That(round.Select(p => (p.BaseSequenceNumber, p.PacketStatusCount, p.ReferenceTime, (int)p.FeedbackPacketCount)),
            Is.EqualTo(new[] { ((ushort)0, (ushort)1, 0, 0), ((ushort)1, (ushort)1, 156, 1) }), "10 s = 156 x 64 ms + 16 ms");
    }

    [Test]
    public void ManyPackets_SplitAcrossPacketsWithinTheBound_CoveringEverySequenceNumberOnce()
    {
        var recorder = new TransportCcFeedbackRecorder(Microseconds, 200);
        for (var i = 0; i < 1000; i++)
        {
            // Every 7th lost, alternating small and large deltas.
            if (i % 7 != 3) recorder.OnPacket((ushort)(40000 + i), Media, 100_000 + (i * 2_000L) + (i % 2 * 70_000));
        }

        Assert.That(recorder.BeginFeedback(5_000_000), Is.True);
        var raw = WriteRoundRaw(recorder);
        var round = raw.Select(Parse).ToList();

        Assert.That(raw.Select(p => p.Length), Is.All.LessThanOrEqualTo(200));
        Assert.That(round.Select(p => (int)p.FeedbackPacketCount), Is.EqualTo(Enumerable.Range(0, round.Count)));
        var next = 40000;
        foreach (var packet in round)
        {
            // Each packet starts where the previous one stopped, or at the next received packet (as libwebrtc does).
            Assert.That(Enumerable.Range(next, packet.BaseSequenceNumber - next), Is.All.Matches<int>(s => (s - 40000) % 7 == 3));
            next = packet.BaseSequenceNumber + packet.PacketStatusCount;
        }
        Assert.That(next, Is.EqualTo(41000));
        Assert.That(round.Sum(p => p.ReceivedCount), Is.EqualTo(1000 - 143));
        Assert.That(recorder.TryWriteNext(new byte[1500], Sender, out _), Is.False, "the round is over");
    }

    [Test]
    public void DuplicateAndVeryOldPackets_AreNotReportedAgain()
    {
        var recorder = new TransportCcFeedbackRecorder(Microseconds, 1200);
        recorder.OnPacket(5000, Media, 1_000);
        recorder.OnPacket(5000, Media, 2_000);
        recorder.OnPacket((ushort)(5000 - TransportCcFeedbackRecorder.Capacity), Media, 3_000);

        Assert.That(recorder.PendingPackets, Is.EqualTo(1));
        Assert.That(recorder.BeginFeedback(3_000), Is.True);
        var feedback = WriteRound(recorder).Single();
        Assert.That((feedback.BaseSequenceNumber, feedback.PacketStatusCount), Is.EqualTo(((ushort)5000, (ushort)1)));
    }

    private static List<byte[]> WriteRoundRaw(TransportCcFeedbackRecorder recorder)
    {
        var packets = new List<byte[]>();
        var buffer = new byte[1500];
        while (recorder.TryWriteNext(buffer, Sender, out var written))
        {
            packets.Add(buffer[..written]);
            Assert.That(packets, Has.Count.LessThan(100), "a round ends");
        }
        return packets;
    }

    private static List<Parsed> WriteRound(TransportCcFeedbackRecorder recorder) => WriteRoundRaw(recorder).Select(Parse).ToList();

    private static List<string> WriteRoundHex(TransportCcFeedbackRecorder recorder) => WriteRoundRaw(recorder).Select(p => Convert.ToHexString(p)).ToList();

    private static Parsed Parse(byte[] packet)
    {
        Assert.That(RtcpTransportFeedback.TryParse(packet, out var feedback), Is.True);
        Assert.That((feedback.SenderSsrc, feedback.MediaSsrc), Is.EqualTo((Sender, Media)));
        return new Parsed(feedback.BaseSequenceNumber, feedback.PacketStatusCount, feedback.ReceivedCount, feedback.ReferenceTime, feedback.FeedbackPacketCount);
    }

    private sealed record Parsed(ushort BaseSequenceNumber, ushort PacketStatusCount, int ReceivedCount, int ReferenceTime, byte FeedbackPacketCount);
}
