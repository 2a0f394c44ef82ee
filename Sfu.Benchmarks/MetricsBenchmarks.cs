using BenchmarkDotNet.Attributes;
using Prometheus;
using Sfu.Media.Diagnostics;
using Sfu.Signaling.Diagnostics;
using SdmCounter = System.Diagnostics.Metrics.Counter<long>;
using SdmMeter = System.Diagnostics.Metrics.Meter;

namespace Sfu.Benchmarks;

/// <summary>
/// What counting one packet costs, per way of exporting it to Prometheus, and what one scrape of the whole server
/// costs. The media path counts several figures per packet (received, forwarded, sent, bytes), so its choice is
/// the plain field read at scrape time unless another way is as cheap. Each operation counts 1000 increments.
/// </summary>
[MemoryDiagnoser]
public class MetricsBenchmarks
{
    private const int Increments = 1000;

    private long _field;
    private Counter _prometheusCounter = null!;
    private Counter.Child _prometheusChild = null!;
    private SdmMeter _meter = null!;
    private SdmCounter _meterCounter = null!;
    private SdmCounter _unobservedMeterCounter = null!;
    private IDisposable _adapter = null!;
    private CollectorRegistry _serverRegistry = null!;
    private CollectorRegistry _processRegistry = null!;

    [GlobalSetup]
    public void Setup()
    {
        var registry = Metrics.NewCustomRegistry();
        var factory = MetricFactories.For(registry);
        _prometheusCounter = factory.CreateCounter("bench_counter_total", "unlabelled");
        _prometheusChild = factory.CreateCounter("bench_labelled_total", "labelled", ["reason"]).WithLabels("replay");

        // The other way: System.Diagnostics.Metrics instruments, exported through prometheus-net's meter adapter.
        _meter = new SdmMeter("Sfu.Benchmarks.Metrics");
        _meterCounter = _meter.CreateCounter<long>("bench.adapted");
        _adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = Metrics.NewCustomRegistry(),
            InstrumentFilterPredicate = i => i.Meter == _meter && i.Name == "bench.adapted",
        });
        _unobservedMeterCounter = _meter.CreateCounter<long>("bench.unobserved");

        // The server's own series, and apart from them prometheus-net's process series, for the scrapes.
        _serverRegistry = Metrics.NewCustomRegistry();
        _ = new SignalingMetrics(_serverRegistry);
        _ = new MediaMetrics(_serverRegistry);
        _processRegistry = Metrics.NewCustomRegistry();
        DotNetStats.Register(_processRegistry);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _adapter.Dispose();
        _meter.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Increments)]
    public void PlainField()
    {
        for (var i = 0; i < Increments; i++) _field++;
    }

    [Benchmark(OperationsPerInvoke = Increments)]
    public void PrometheusCounterInc()
    {
        for (var i = 0; i < Increments; i++) _prometheusCounter.Inc();
    }

    [Benchmark(OperationsPerInvoke = Increments)]
    public void PrometheusLabelledChildInc()
    {
        for (var i = 0; i < Increments; i++) _prometheusChild.Inc();
    }

    [Benchmark(OperationsPerInvoke = Increments)]
    public void MeterCounterThroughAdapter()
    {
        var reason = new KeyValuePair<string, object?>("reason", "replay");
        for (var i = 0; i < Increments; i++) _meterCounter.Add(1, reason);
    }

    [Benchmark(OperationsPerInvoke = Increments)]
    public void MeterCounterWithoutListener()
    {
        var reason = new KeyValuePair<string, object?>("reason", "replay");
        for (var i = 0; i < Increments; i++) _unobservedMeterCounter.Add(1, reason);
    }

    [Benchmark]
    public Task ScrapeServerSeries() => _serverRegistry.CollectAndExportAsTextAsync(Stream.Null);

    [Benchmark]
    public Task ScrapeProcessSeries() => _processRegistry.CollectAndExportAsTextAsync(Stream.Null);
}
