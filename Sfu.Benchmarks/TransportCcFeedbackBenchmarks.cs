using BenchmarkDotNet.Attributes;
using Sfu.Media.Congestion;

namespace Sfu.Benchmarks;

/// <summary>
/// The publisher-feedback cost per received packet: recording a transport-wide sequence number's arrival (the
/// packet path) and building the feedback that reports it (the worker's tick). One invocation is
/// <see cref="Packets"/> packets (10: one 50 ms feedback interval at about 2 Mbit/s in 1200-byte packets; 100: the
/// packet-count threshold), one in 50 lost and one in 50 reordered, then the feedback for them. Divide by
/// <see cref="Packets"/> for the cost per packet.
/// </summary>
[MemoryDiagnoser]
public class TransportCcFeedbackBenchmarks
{
    private const long Frequency = 1_000_000_000; // nanosecond timestamps, like Stopwatch on Linux

    private readonly byte[] _buffer = new byte[1500];
    private TransportCcFeedbackRecorder _recorder = null!;
    private ushort _sequence;
    private long _now;

    [Params(10, 100)]
    public int Packets { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _recorder = new TransportCcFeedbackRecorder(Frequency, PublisherFeedback.MaxFeedbackLength);
        _now = Frequency * 1000;
    }

    [Benchmark(Description = "record arrivals")]
    public void Record()
    {
        // No feedback round: the ring overwrites its oldest slots, as it would between rounds.
        for (var i = 0; i < Packets; i++) RecordOne(i);
    }

    [Benchmark(Description = "record arrivals + build feedback")]
    public int RecordAndBuild()
    {
        for (var i = 0; i < Packets; i++) RecordOne(i);
        var bytes = 0;
        if (_recorder.BeginFeedback(long.MaxValue))
        {
            while (_recorder.TryWriteNext(_buffer, 1, out var written)) bytes += written;
        }
        return bytes;
    }

    private void RecordOne(int i)
    {
        var sequence = _sequence++;
        if (sequence % 50 == 7) return; // lost
        if (sequence % 50 == 20)
        {
            _sequence++;
            _recorder.OnPacket((ushort)(sequence + 1), 1, _now);
        }
        _now += Frequency / 200 + (i % 3 * 100_000); // ~5 ms apart, with jitter
        _recorder.OnPacket(sequence, 1, _now);
    }
}
