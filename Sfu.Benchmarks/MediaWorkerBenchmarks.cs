using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Sfu.Media;
using Sfu.Media.Diagnostics;
using Sfu.Media.Worker;

namespace Sfu.Benchmarks;

/// <summary>
/// How long control-plane work (a publish, a subscribe, an ICE restart) waits for the media worker when no media
/// flows: one <see cref="MediaWorker.InvokeAsync{T}"/> round trip on the real worker thread, which sleeps in its wait
/// for datagrams until a queued command wakes it.
/// </summary>
public class MediaWorkerBenchmarks
{
    private MediaWorker _worker = null!;

    [GlobalSetup]
    public void Setup() =>
        _worker = new MediaWorker(new MediaOptions { Port = 0, BindAddress = "127.0.0.1" }, TimeProvider.System,
            new MediaMetrics(Prometheus.Metrics.NewCustomRegistry()), NullLogger<MediaWorker>.Instance);

    [GlobalCleanup]
    public void Cleanup() => _worker.Dispose();

    [Benchmark]
    public Task<int> InvokeOnIdleWorker() => _worker.InvokeAsync(() => 1);
}
