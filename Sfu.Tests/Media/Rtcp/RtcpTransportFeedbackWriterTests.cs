using Sfu.Media.Rtcp;

namespace Sfu.Tests.Media.Rtcp;

/// <summary>
/// The transport-cc feedback writer against packets built by hand from draft-holmer-rmcat-transport-wide-cc-extensions-01
/// section 3.1 (reference time in 64 ms, deltas in 250 µs from the previous arrival, chunks as libwebrtc chooses them).
/// Every packet is also read back by <see cref="RtcpTransportFeedback"/>.
/// </summary>
public class RtcpTransportFeedbackWriterTests
{
    private const uint Sender = 0x11111111;
    private const uint Media = 0x22222222;

    [Test]
    public void SimpleRun_OneRunLengthChunk_SmallDeltas_PaddedTo32Bits()
    {
        var writer = new RtcpTransportFeedbackWriter(1200);
        writer.Reset(100, 1_000_000, feedbackCount: 5);
        Add(writer, (100, 1_000_000), (101, 1_010_000), (102, 1_020_000));

        // Reference 15 x 64 ms = 960 ms; deltas 40 ms, 10 ms, 10 ms = 160, 40, 40 ticks; P bit and 3 bytes of padding.
        AssertWrites(writer, "AFCD0006" + "11111111" + "22222222" + "0064" + "0003" + "00000F" + "05" + "2003" + "A02828" + "000003");
        AssertParses(writer, baseSequence: 100, statusCount: 3, received: 3, referenceTime: 15, feedbackCount: 5);
    }

    [Test]
    public void MixedSmallAndLargeDeltas_TwoBitVector_LargeDeltasSigned()
    {
        var writer = new RtcpTransportFeedbackWriter(1200);
        writer.Reset(0, 64_000, 0);
        // 0 ms, +100 ms (400 ticks), +0.25 ms, -1.25 ms (arrived before its predecessor).
        Add(writer, (0, 64_000), (1, 164_000), (2, 164_250), (3, 163_000));

        AssertWrites(writer, "8FCD0006" + "11111111" + "22222222" + "0000" + "0004" + "000001" + "00" + "D980" + "00" + "0190" + "01" + "FFFB");
        AssertParses(writer, baseSequence: 0, statusCount: 4, received: 4, referenceTime: 1, feedbackCount: 0);
    }

    [Test]
    public void MissingPackets_OneBitVectorThenRun_OnlyReceivedHaveDeltas()
    {
        var writer = new RtcpTransportFeedbackWriter(1200);
        writer.Reset(10, 0, 0);
        // 11, 12 and 15 never arrived; each arrival is 1 ms per sequence number after 10's.
        Add(writer, (10, 0), (13, 3_000), (14, 4_000), (16, 6_000), (17, 7_000), (18, 8_000), (19, 9_000),
            (20, 10_000), (21, 11_000), (22, 12_000), (23, 13_000), (24, 14_000));

        // 14 symbols 1001101111111 1 in a 1-bit vector, then the 15th as a run of one.
        AssertWrites(writer, "8FCD0008" + "11111111" + "22222222" + "000A" + "000F" + "000000" + "00" + "A6FF" + "2001"
            + "000C0408" + "0404040404040404");
        AssertParses(writer, baseSequence: 10, statusCount: 15, received: 12, referenceTime: 0, feedbackCount: 0);
    }

    [Test]
    public void SequenceNumbersWrapFrom65535To0_WithinOnePacket()
    {
        var writer = new RtcpTransportFeedbackWriter(1200);
        writer.Reset(65534, 64_000, 9);
        Add(writer, (65534, 64_000), (65535, 65_000), (0, 66_000), (1, 67_000));

        AssertWrites(writer, "AFCD0006" + "11111111" + "22222222" + "FFFE" + "0004" + "000001" + "09" + "2004" + "00040404" + "0002");
        AssertParses(writer, baseSequence: 65534, statusCount: 4, received: 4, referenceTime: 1, feedbackCount: 9);
    }

    [Test]
    public void OlderOrRepeatedSequenceNumber_IsRefused_AndLeavesThePacketAsItWas()
    {
        var writer = new RtcpTransportFeedbackWriter(1200);
        writer.Reset(100, 0, 0);
        Add(writer, (100, 0), (102, 1_000));

        Assert.That(writer.TryAddReceived(101, 2_000), Is.False, "a late packet belongs to a later feedback packet");
        Assert.That(writer.TryAddReceived(102, 2_000), Is.False, "a duplicate");
        Assert.That(writer.TryAddReceived(99, 2_000), Is.False, "before the base");

        AssertWrites(writer, "8FCD0005" + "11111111" + "22222222" + "0064" + "0003" + "000000" + "00" + "D100" + "0004");
    }

    [Test]
    public void GapLongerThanARunChunkHolds_SplitsIntoSeveralRuns()
    {
        var writer = new RtcpTransportFeedbackWriter(1200);
        writer.Reset(0, 0, 0);
        // 8999 lost between 0 and 9000: 13 of them fill the first chunk's 1-bit vector, 8191 one full run, 795 another.
        Add(writer, (0, 0), (9000, 1_000));

        AssertWrites(writer, "AFCD0007" + "11111111" + "22222222" + "0000" + "2329" + "000000" + "00" + "A000" + "1FFF" + "031B" + "2001" + "0004" + "0002");
        AssertParses(writer, baseSequence: 0, statusCount: 9001, received: 2, referenceTime: 0, feedbackCount: 0);
    }

    [Test]
    public void DeltaBeyond16Bits_IsRefused_AndTheNextPacketStartsFromIt()
    {
        var writer = new RtcpTransportFeedbackWriter(1200);
        writer.Reset(0, 0, 0);
        Add(writer, (0, 0));

        // 8.2 s after the previous arrival is 32800 ticks of 250 µs: more than a signed 16-bit delta holds.
        Assert.That(writer.TryAddReceived(1, 8_200_000), Is.False);
        AssertWrites(writer, "AFCD0005" + "11111111" + "22222222" + "0000" + "0001" + "000000" + "00" + "2001" + "00" + "01");

        writer.Reset(1, 8_200_000, 1);
        Add(writer, (1, 8_200_000));
        // Reference 128 x 64 ms = 8.192 s, delta 8 ms = 32 ticks.
        AssertWrites(writer, "AFCD0005" + "11111111" + "22222222" + "0001" + "0001" + "000080" + "01" + "2001" + "20" + "01");
    }

    [Test]
    public void LargestNegativeAndPositiveDeltas_StillFit()
    {
        var writer = new RtcpTransportFeedbackWriter(1200);
        writer.Reset(0, 64_000_000, 0);
        Add(writer, (0, 64_000_000), (1, 64_000_000 + (32_767 * 250)), (2, 64_000_000));

        AssertWrites(writer, "AFCD0006" + "11111111" + "22222222" + "0000" + "0003" + "0003E8" + "00" + "DA00" + "00" + "7FFF" + "8001" + "01");
    }

    [Test]
    public void DeltasRoundToTheNearestTick_WithoutDrift()
    {
        var writer = new RtcpTransportFeedbackWriter(1200);
        writer.Reset(0, 0, 0);
        // 0.1 ms steps: arrivals at 0, 0.1, 0.2, 0.3 ms round to ticks 0, 0, 1, 1 (0.125 ms rounds up).
        Add(writer, (0, 0), (1, 100), (2, 200), (3, 300));

        AssertWrites(writer, "AFCD0006" + "11111111" + "22222222" + "0000" + "0004" + "000000" + "00" + "2004" + "00000100" + "0002");
    }

    [Test]
    public void SizeBound_RefusesThePacketThatWouldNotFit_AndNoPacketExceedsIt()
    {
        var writer = new RtcpTransportFeedbackWriter(40);
        writer.Reset(0, 0, 0);
        var added = 0;
        // A small first delta, then 100 ms (large) ones: a 2-bit chunk for the first seven, a run for the rest.
        while (writer.TryAddReceived((ushort)added, added * 100_000L))
        {
            added++;
        }

        var buffer = new byte[64];
        Assert.That(writer.TryWrite(buffer, Sender, Media, out var written), Is.True);
        Assert.That(written, Is.LessThanOrEqualTo(40));
        Assert.That(added, Is.EqualTo(8), "20 header + 2 chunks + 1 small + 7 large deltas = 39 bytes; one more large delta would make 41");
        Assert.That(RtcpTransportFeedback.TryParse(buffer.AsSpan(0, written), out var parsed), Is.True);
        Assert.That(parsed.ReceivedCount, Is.EqualTo(added));
    }

    [Test]
    public void ManyPacketsWithLossesAndMixedDeltas_RoundTripThroughTheParser()
    {
        var writer = new RtcpTransportFeedbackWriter(1200);
        writer.Reset(60000, 5_000_000, 200);
        var random = new Random(7);
        ushort sequence = 60000;
        long arrival = 5_000_000;
        int received = 0, status = 0;
        while (true)
        {
            var next = (ushort)(sequence + (random.Next(10) == 0 ? random.Next(2, 40) : 1));
            var nextArrival = arrival + random.Next(-2_000, 80_000);
            if (!writer.TryAddReceived(received == 0 ? sequence : next, received == 0 ? arrival : nextArrival))
            {
                break;
            }

            if (received > 0)
            {
                sequence = next;
                arrival = nextArrival;
            }

            received++;
            status = (ushort)(sequence - 60000) + 1;
        }

        var buffer = new byte[1200];
        Assert.That(writer.TryWrite(buffer, Sender, Media, out var written), Is.True);
        Assert.That(written, Is.LessThanOrEqualTo(1200).And.GreaterThan(1100), "filled up to the bound");
        Assert.That(RtcpTransportFeedback.TryParse(buffer.AsSpan(0, written), out var parsed), Is.True);
        Assert.That(parsed.BaseSequenceNumber, Is.EqualTo(60000));
        Assert.That(parsed.PacketStatusCount, Is.EqualTo(status));
        Assert.That(parsed.ReceivedCount, Is.EqualTo(received));
        Assert.That(parsed.FeedbackPacketCount, Is.EqualTo(200));
        Assert.That(parsed.MediaSsrc, Is.EqualTo(Media));
    }

    [Test]
    public void EmptyPacketOrShortDestination_WritesNothing()
    {
        var writer = new RtcpTransportFeedbackWriter(1200);
        writer.Reset(0, 0, 0);
        Assert.That(writer.TryWrite(new byte[100], Sender, Media, out _), Is.False, "no status to report");

        Add(writer, (0, 0));
        Assert.That(writer.TryWrite(new byte[23], Sender, Media, out var written), Is.False);
        Assert.That(written, Is.Zero);
    }

    private static void Add(RtcpTransportFeedbackWriter writer, params (int Sequence, long ArrivalMicroseconds)[] packets)
    {
        foreach (var (sequence, arrival) in packets)
        {
            Assert.That(writer.TryAddReceived((ushort)sequence, arrival), Is.True, $"packet {sequence} fits");
        }
    }

    private static void AssertWrites(RtcpTransportFeedbackWriter writer, string expectedHex)
    {
        var buffer = new byte[1500];
        Assert.That(writer.TryWrite(buffer, Sender, Media, out var written), Is.True);
        Assert.That(Convert.ToHexString(buffer, 0, written), Is.EqualTo(expectedHex));
        Assert.That(written, Is.EqualTo(writer.Length));
    }

    private static void AssertParses(RtcpTransportFeedbackWriter writer, int baseSequence, int statusCount, int received, int referenceTime, int feedbackCount)
    {
        var buffer = new byte[1500];
        Assert.That(writer.TryWrite(buffer, Sender, Media, out var written), Is.True);
        Assert.That(RtcpTransportFeedback.TryParse(buffer.AsSpan(0, written), out var parsed), Is.True);
        var fields = (parsed.SenderSsrc, parsed.MediaSsrc, (int)parsed.BaseSequenceNumber, (int)parsed.PacketStatusCount, parsed.ReceivedCount, parsed.ReferenceTime, (int)parsed.FeedbackPacketCount);
        Assert.That(fields, Is.EqualTo((Sender, Media, baseSequence, statusCount, received, referenceTime, feedbackCount)));
    }
}
