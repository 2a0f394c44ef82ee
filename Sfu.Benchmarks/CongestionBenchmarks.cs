using BenchmarkDotNet.Attributes;
using Sfu.Media.Congestion;
using Sfu.Media.Rtcp;

namespace Sfu.Benchmarks;

/// <summary>
/// The send-side estimator's share of each packet a subscriber is sent: recording it in the send history, then
/// reading its transport-cc feedback (one feedback per 50 packets, about what a browser sends every 50 ms at
/// 10 Mbit/s) through inter-arrival grouping, trendline, detector, AIMD, loss and acknowledged rate.
/// </summary>
[MemoryDiagnoser]
public class CongestionBenchmarks
{
    private const int PacketsPerFeedback = 50;
    private const int Feedbacks = 64;
    private const long SendIntervalUs = 1_000;

    private const int ReferenceUnitsPerRound = PacketsPerFeedback * Feedbacks * (int)SendIntervalUs / 64_000;

    private readonly byte[][] _feedback = new byte[Feedbacks][];
    private readonly int[] _reference = new int[Feedbacks];
    private SendSideBandwidthEstimator _estimator = null!;
    private ushort _firstSequence;
    private int _round;
    private long _nowUs;

    [GlobalSetup]
    public void Setup()
    {
        _estimator = new SendSideBandwidthEstimator(BandwidthEstimatorSettings.Default, 0);
        // Feedback for consecutive runs of 50 packets: 6 frames' bursts arriving 30 ms later, one in 25 lost.
        // Each round of the benchmark sends 3.2 s worth, exactly 50 reference-time units: the same feedback bytes
        // serve every round once their base sequence number and reference time are moved on.
        _firstSequence = _estimator.History.NextSequenceNumber;
        var first = _firstSequence;
        for (var f = 0; f < Feedbacks; f++)
        {
            var packets = new TransportFeedbackPacket[PacketsPerFeedback];
            _reference[f] = (int)(f * PacketsPerFeedback * SendIntervalUs / 64_000);
            long previous = _reference[f] * 64_000L;
            for (var i = 0; i < PacketsPerFeedback; i++)
            {
                var index = (f * PacketsPerFeedback) + i;
                var arrival = (index * SendIntervalUs) + 30_000 + ((index % 7) * 250);
                var received = index % 25 != 11;
                packets[i] = new TransportFeedbackPacket((ushort)(first + index), received, received ? arrival - previous : 0);
                if (received) previous = arrival;
            }
            _feedback[f] = Encode(packets);
        }
    }

    [Benchmark(OperationsPerInvoke = PacketsPerFeedback * Feedbacks)]
    public long SendAndReadFeedback()
    {
        for (var f = 0; f < Feedbacks; f++)
        {
            var packet = _feedback[f];
            var sequence = (ushort)(_firstSequence + (((_round * Feedbacks) + f) * PacketsPerFeedback));
            var reference = _reference[f] + (_round * ReferenceUnitsPerRound);
            packet[12] = (byte)(sequence >> 8);
            packet[13] = (byte)sequence;
            packet[16] = (byte)(reference >> 16);
            packet[17] = (byte)(reference >> 8);
            packet[18] = (byte)reference;
            for (var i = 0; i < PacketsPerFeedback; i++)
            {
                _estimator.OnPacketSent(1200, _nowUs);
                _nowUs += SendIntervalUs;
            }
            RtcpTransportFeedback.TryParse(packet, out var feedback);
            _estimator.OnTransportFeedback(feedback, _nowUs + 40_000);
        }
        _round++;
        return _estimator.EstimatedBitrate;
    }

    [GlobalCleanup]
    public void Cleanup() =>
        // A non-zero acknowledged rate shows the feedback matched the send history on every round, not just the first.
        Console.WriteLine($"// after {_round} rounds: estimate {_estimator.EstimatedBitrate} bit/s, acknowledged {_estimator.AcknowledgedBitrate} bit/s");

    // Run-length-free encoding: 2-bit status vectors, 1-byte deltas (all deltas here are small and positive).
    private static byte[] Encode(TransportFeedbackPacket[] packets)
    {
        var chunks = (packets.Length + 6) / 7;
        var deltas = packets.Count(p => p.Received);
        var length = 20 + (chunks * 2) + deltas;
        length += (4 - (length % 4)) % 4;
        var buffer = new byte[length];
        buffer[0] = 0x8F;
        buffer[1] = 205;
        buffer[2] = (byte)(((length / 4) - 1) >> 8);
        buffer[3] = (byte)((length / 4) - 1);
        buffer[12] = (byte)(packets[0].SequenceNumber >> 8);
        buffer[13] = (byte)packets[0].SequenceNumber;
        buffer[15] = (byte)packets.Length;
        var delta = 20 + (chunks * 2);
        for (var c = 0; c < chunks; c++)
        {
            var chunk = 0xC000;
            for (var s = 0; s < 7 && (c * 7) + s < packets.Length; s++)
            {
                var p = packets[(c * 7) + s];
                if (!p.Received) continue;
                chunk |= 1 << (12 - (2 * s));
                buffer[delta++] = (byte)(p.DeltaMicroseconds / RtcpTransportFeedback.DeltaUnitMicroseconds);
            }
            buffer[20 + (c * 2)] = (byte)(chunk >> 8);
            buffer[21 + (c * 2)] = (byte)chunk;
        }
        return buffer;
    }
}
