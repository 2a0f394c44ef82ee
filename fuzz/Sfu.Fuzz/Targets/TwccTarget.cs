using System.Buffers.Binary;
using Sfu.Media.Congestion;
using Sfu.Media.Rtcp;

namespace Sfu.Fuzz.Targets;

/// <summary>
/// Transport-wide congestion control feedback, both ways. The input is a feedback packet as a subscriber sends it:
/// parsed, every packet it reports walked, and what was read written again by the server's own writer, which must
/// read back the same. Read as a schedule instead (pairs of sequence step and arrival step), it drives the publisher
/// side's recorder: every feedback packet the recorder writes for arrivals in any order must parse.
/// </summary>
public sealed class TwccTarget : FuzzTarget
{
    private const int MaxPacket = 1200;

    private readonly byte[] _written = new byte[MaxPacket];

    public override void Execute(ReadOnlySpan<byte> input)
    {
        if (RtcpTransportFeedback.TryParse(input, out var feedback)) RewriteAndCompare(feedback);
        Record(input);
    }

    private void RewriteAndCompare(RtcpTransportFeedback feedback)
    {
        var writer = new RtcpTransportFeedbackWriter(MaxPacket);
        var arrival = Math.Max(0, feedback.ReferenceTimeMicroseconds);
        var started = false;
        Span<(ushort Sequence, long Arrival)> accepted = stackalloc (ushort, long)[64];
        var count = 0;
        foreach (var packet in feedback.GetPackets())
        {
            if (!packet.Received) continue;
            arrival += packet.DeltaMicroseconds;
            if (arrival < 0) return; // Before the reference: a receiver's clock the writer never produces.
            if (!started)
            {
                writer.Reset(packet.SequenceNumber, arrival, feedback.FeedbackPacketCount);
                started = true;
            }
            if (!writer.TryAddReceived(packet.SequenceNumber, arrival) || count == accepted.Length) break;
            accepted[count++] = (packet.SequenceNumber, arrival);
        }
        if (count == 0) return;
        if (!writer.TryWrite(_written, feedback.SenderSsrc, feedback.MediaSsrc, out var length))
            throw new InvalidOperationException("the writer refused a packet it had accepted");
        if (!RtcpTransportFeedback.TryParse(_written.AsSpan(0, length), out var reread))
            throw new InvalidOperationException("the writer's packet does not parse");

        var index = 0;
        var rereadArrival = reread.ReferenceTimeMicroseconds;
        foreach (var packet in reread.GetPackets())
        {
            if (!packet.Received) continue;
            rereadArrival += packet.DeltaMicroseconds;
            if (index == count) throw new InvalidOperationException("the writer reported a packet it was not given");
            var (sequence, expected) = accepted[index++];
            // Arrivals are rounded to the wire's 250 µs, relative to a 64 ms reference: compare what survives rounding.
            if (packet.SequenceNumber != sequence || Math.Abs(rereadArrival - expected) >= 64_250)
                throw new InvalidOperationException($"packet {sequence} read back as {packet.SequenceNumber} at {rereadArrival}, not {expected}");
        }
        if (index != count) throw new InvalidOperationException("the writer lost a packet");
    }

    private void Record(ReadOnlySpan<byte> schedule)
    {
        var recorder = new TransportCcFeedbackRecorder(TimeSpan.TicksPerSecond, MaxPacket);
        ushort sequence = 0;
        long arrival = 0;
        for (var i = 0; i + 3 <= schedule.Length; i += 3)
        {
            sequence += (ushort)(sbyte)schedule[i];
            arrival += BinaryPrimitives.ReadUInt16BigEndian(schedule[(i + 1)..]) * 100;
            recorder.OnPacket(sequence, 0x1234, arrival);
        }
        if (!recorder.BeginFeedback(long.MaxValue / 2)) return;
        var packets = 0;
        while (recorder.TryWriteNext(_written, 0x5678, out var length))
        {
            if (!RtcpTransportFeedback.TryParse(_written.AsSpan(0, length), out var written))
                throw new InvalidOperationException("the recorder wrote feedback that does not parse");
            foreach (var _ in written.GetPackets()) { }
            if (++packets > 4096) throw new InvalidOperationException("the recorder does not finish a round");
        }
    }
}
