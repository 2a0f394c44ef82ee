using BenchmarkDotNet.Attributes;
using Sfu.Media.Pipes;

namespace Sfu.Benchmarks;

/// <summary>
/// What a room spread over two workers adds per packet: the home worker writes it into the pipe once, the other worker
/// reads it back (the mirror's fan-out is the same as on the home worker, so it is not part of this). One thread plays
/// both sides, so this is the copy and bookkeeping without cross-core cache traffic; each operation moves 64 packets
/// of a typical video size through the ring.
/// </summary>
[MemoryDiagnoser]
public class WorkerPipeBenchmarks
{
    private const int Packets = 64;

    private readonly byte[] _packet = new byte[1200];
    private readonly CountingHandler _handler = new();
    private WorkerPipe _pipe = null!;

    [GlobalSetup]
    public void Setup() => _pipe = new WorkerPipe(static () => { });

    [Benchmark(OperationsPerInvoke = Packets)]
    public int WriteThenDrain()
    {
        for (var i = 0; i < Packets; i++) _pipe.TryWrite(PipeEntryKind.Rtp, 0, i, _packet);
        _pipe.Drain(_handler, Packets);
        return _handler.Bytes;
    }

    private sealed class CountingHandler : IPipeEntryHandler
    {
        public int Bytes { get; private set; }

        public void Handle(PipeEntry entry) => Bytes += entry.Payload.Length;
    }
}
