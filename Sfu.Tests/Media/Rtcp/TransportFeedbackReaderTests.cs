using Sfu.Media.Rtcp;
using Sfu.Tests.Media.Congestion;

namespace Sfu.Tests.Media.Rtcp;

/// <summary>The per-packet side of transport-cc feedback: every status and arrival delta, in order.</summary>
public class TransportFeedbackReaderTests
{
    [Test]
    public void RunAndVectorChunks_YieldEachPacketWithItsDelta()
    {
        // base 10, 5 statuses: a run of 3 "small delta", then a 2-bit vector [large, not received];
        // deltas 4, 4, 4 (1 ms each) and 0x0100 (64 ms); P bit with 3 bytes of padding.
        byte[] packet = Convert.FromHexString(
            "AFCD0007" + "00000001" + "00000002" +
            "000A0005" + "00000103" + "2003" + "E000" + "040404" + "0100" + "000003");

        Assert.That(RtcpTransportFeedback.TryParse(packet, out var feedback), Is.True);
        Assert.That(Read(feedback), Is.EqualTo(new[]
        {
            new TransportFeedbackPacket(10, true, 1000),
            new TransportFeedbackPacket(11, true, 1000),
            new TransportFeedbackPacket(12, true, 1000),
            new TransportFeedbackPacket(13, true, 64_000),
            new TransportFeedbackPacket(14, false, 0),
        }));
        Assert.That(feedback.ReferenceTimeMicroseconds, Is.EqualTo(64_000));
    }

    [Test]
    public void OneBitVector_AcrossSequenceWrap_NumbersWrapToZero()
    {
        // base 65534, 4 statuses in a 1-bit vector: received, received, lost, received; deltas 1, 2, 3 units.
        byte[] packet = Convert.FromHexString("8FCD0006" + "00000001" + "00000002" + "FFFE0004" + "00000000" + "B400" + "010203" + "000000");

        Assert.That(RtcpTransportFeedback.TryParse(packet, out var feedback), Is.True);
        Assert.That(Read(feedback), Is.EqualTo(new[]
        {
            new TransportFeedbackPacket(65534, true, 250),
            new TransportFeedbackPacket(65535, true, 500),
            new TransportFeedbackPacket(0, false, 0),
            new TransportFeedbackPacket(1, true, 750),
        }));
    }

    [Test]
    public void LargeDelta_Negative_IsSigned()
    {
        // One packet, run of 1 "large delta" of -4 units (reordered: arrived 1 ms before the reference).
        byte[] packet = Convert.FromHexString("8FCD0005" + "00000001" + "00000002" + "00070001" + "00000000" + "4001" + "FFFC");

        Assert.That(RtcpTransportFeedback.TryParse(packet, out var feedback), Is.True);
        Assert.That(Read(feedback), Is.EqualTo(new[] { new TransportFeedbackPacket(7, true, -1000) }));
    }

    [Test]
    public void RunLongerThanStatusCount_StopsAtStatusCount()
    {
        // A "not received" run of 100 where only 2 statuses are announced, then nothing else.
        byte[] packet = Convert.FromHexString("8FCD0005" + "00000001" + "00000002" + "00640002" + "00000000" + "0064" + "0000");

        Assert.That(RtcpTransportFeedback.TryParse(packet, out var feedback), Is.True);
        Assert.That(Read(feedback), Is.EqualTo(new[] { new TransportFeedbackPacket(100, false, 0), new TransportFeedbackPacket(101, false, 0) }));
    }

    [Test]
    public void RoundTrip_HandEncodedLossyTrace_ReadsBackEveryPacket()
    {
        var random = new Random(9);
        var expected = new List<TransportFeedbackPacket>();
        var sequence = (ushort)65500;
        for (var i = 0; i < 200; i++)
        {
            var received = random.NextDouble() > 0.1;
            // Mostly small deltas, some large, some negative (reordering).
            var units = !received ? 0 : random.Next(10) switch { 0 => random.Next(256, 4000), 1 => -random.Next(1, 40), _ => random.Next(0, 256) };
            expected.Add(new TransportFeedbackPacket(sequence++, received, units * 250L));
        }

        var packet = TransportFeedbackBuilder.Encode(expected, referenceTime: 0x123456, feedbackCount: 200);
        Assert.That(RtcpTransportFeedback.TryParse(packet, out var feedback), Is.True);
        Assert.That(feedback.ReceivedCount, Is.EqualTo(expected.Count(p => p.Received)));
        Assert.That(feedback.ReferenceTime, Is.EqualTo(0x123456));
        Assert.That(Read(feedback), Is.EqualTo(expected));
    }

    [Test]
    public void Enumerating_DoesNotAllocate()
    {
        var packets = Enumerable.Range(0, 100).Select(i => new TransportFeedbackPacket((ushort)i, i % 5 != 0, i % 5 == 0 ? 0 : 250L * i)).ToList();
        var packet = TransportFeedbackBuilder.Encode(packets, referenceTime: 1, feedbackCount: 1);
        Sum(packet);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var total = Sum(packet);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
        Assert.That(total, Is.EqualTo(packets.Sum(p => p.DeltaMicroseconds)));
    }

    private static long Sum(byte[] packet)
    {
        RtcpTransportFeedback.TryParse(packet, out var feedback);
        long total = 0;
        foreach (var p in feedback.GetPackets()) total += p.DeltaMicroseconds;
        return total;
    }

    private static List<TransportFeedbackPacket> Read(RtcpTransportFeedback feedback)
    {
        var list = new List<TransportFeedbackPacket>();
        foreach (var p in feedback.GetPackets()) list.Add(p);
        return list;
    }
}
