using System.Diagnostics;
using System.Globalization;

namespace Sfu.Soak;

/// <summary>
/// Cycles of churn against a running server until the duration is spent, sampling its memory and counts every
/// <see cref="SoakOptions.SampleInterval"/> into a CSV, and after each cycle (once everyone left and the empty rooms
/// closed) judging whether the counts are back at the baseline and the memory trend is under the threshold.
/// </summary>
internal sealed class SoakRun(SoakOptions options, TextWriter log)
{
    private readonly Lock _gate = new();
    private readonly List<(int Cycle, ServerSample Sample)> _periodic = [];
    private readonly Stopwatch _clock = new();
    private StreamWriter? _csv;
    private int _cycle;

    public async Task<SoakReport> RunAsync(CancellationToken cancel)
    {
        using var http = new HttpClient { BaseAddress = options.Url, Timeout = TimeSpan.FromSeconds(10) };
        await using var csv = _csv = new StreamWriter(options.CsvPath) { AutoFlush = true };
        await csv.WriteLineAsync(ServerSample.CsvHeader);
        _clock.Start();
        var baseline = await ScrapeAsync(http, "baseline", cancel);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"baseline: rss {baseline.RssBytes / ServerSample.Megabyte:F1} MB, gc heap {baseline.GcHeapBytes / ServerSample.Megabyte:F1} MB, {Describe(baseline)}"));

        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var sampling = SampleEveryIntervalAsync(http, stopSampling.Token);
        var runId = Guid.NewGuid().ToString("N")[..8];
        var random = new Random(options.Seed);
        var cycles = new List<CycleResult>();
        try
        {
            do
            {
                var cycle = Interlocked.Increment(ref _cycle);
                var activity = await RunCycleAsync(runId, cycle, random, cancel);
                var end = await SettleAsync(http, baseline, cancel);
                var result = new CycleResult(cycle, end, Flatness.CountsOffBaseline(baseline, end), activity);
                cycles.Add(result);
                log.WriteLine(Describe(result, cycles));
            }
            while (_clock.Elapsed + options.ActivePerCycle < options.Duration);
        }
        finally
        {
            await stopSampling.CancelAsync();
            await sampling;
        }

        var ends = cycles.Select(c => c.End).ToList();
        var report = new SoakReport(baseline, cycles, Flatness.SlopeMbPerHour(ends, s => s.RssBytes),
            Flatness.SlopeMbPerHour(ends, s => s.GcHeapBytes), options.MaxRssSlopeMbPerHour);
        lock (_gate) Plot.SoakPlot.Write(options.PngPath, _periodic, cycles);
        log.WriteLine(report.Verdict());
        return report;
    }

    private async Task<CycleActivity> RunCycleAsync(string runId, int cycle, Random random, CancellationToken cancel)
    {
        await using var churn = new ChurnCycle(options, runId, cycle, random);
        try
        {
            await churn.StartAsync(cancel);
            await churn.ChurnAsync(cancel);
        }
        catch (Exception e) when (e is TimeoutException or System.Net.WebSockets.WebSocketException or Sfu.Client.Signaling.SignalingException)
        {
            // A peer that could not even join or connect is a finding; the cycle still ends with everyone leaving.
            churn.Activity.Fail("start", e.Message);
        }
        finally
        {
            await churn.LeaveAllAsync();
        }

        return churn.Activity;
    }

    /// <summary>Polls until every count is back at the baseline or the settle limit passes; returns the last sample.</summary>
    private async Task<ServerSample> SettleAsync(HttpClient http, ServerSample baseline, CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var sample = await ServerSample.ScrapeAsync(http, _clock.Elapsed.TotalSeconds, cancel);
            if (Flatness.CountsAtBaseline(baseline, sample) || watch.Elapsed > options.SettleLimit)
            {
                Record(sample, "end");
                return sample;
            }

            await Task.Delay(500, cancel);
        }
    }

    private async Task SampleEveryIntervalAsync(HttpClient http, CancellationToken cancel)
    {
        using var timer = new PeriodicTimer(options.SampleInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancel))
            {
                try
                {
                    await ScrapeAsync(http, "periodic", cancel);
                }
                catch (HttpRequestException e)
                {
                    log.WriteLine($"sample failed: {e.Message}");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task<ServerSample> ScrapeAsync(HttpClient http, string phase, CancellationToken cancel)
    {
        var sample = await ServerSample.ScrapeAsync(http, _clock.Elapsed.TotalSeconds, cancel);
        Record(sample, phase);
        return sample;
    }

    private void Record(ServerSample sample, string phase)
    {
        lock (_gate)
        {
            var cycle = Volatile.Read(ref _cycle);
            _periodic.Add((cycle, sample));
            _csv!.WriteLine(sample.ToCsv(cycle, phase));
        }
    }

    private static string Describe(ServerSample sample) => string.Join(", ", sample.Counts.Select(c => $"{c.Name} {c.Value}"));

    private string Describe(CycleResult result, List<CycleResult> cycles)
    {
        var ends = cycles.Select(c => c.End).ToList();
        var slope = Flatness.SlopeMbPerHour(ends, s => s.RssBytes);
        var inv = CultureInfo.InvariantCulture;
        var activity = result.Activity;
        return string.Create(inv, $"cycle {result.Cycle} at {result.End.Seconds / 60:F1} min: ") +
            (result.Off.Count == 0 ? "counts back at baseline" : "NOT back: " + string.Join(", ", result.Off)) +
            string.Create(inv, $"; rss {result.End.RssBytes / ServerSample.Megabyte:F1} MB, gc heap {result.End.GcHeapBytes / ServerSample.Megabyte:F1} MB") +
            (slope is { } s ? string.Create(inv, $", rss trend {s:+0.0;-0.0} MB/h ({(s <= options.MaxRssSlopeMbPerHour ? "flat" : "GROWING")})") : ", rss trend: needs 4 cycles") +
            $"; {activity.Joins} joins, {activity.Leaves} leaves, {activity.Summary()}" +
            (activity.VideoPackets.Count > 0 ? $"; video packets per subscriber min {activity.VideoPackets.Min()}, stalled {activity.StalledSubscribers}" : "") +
            (activity.Failures.Count == 0 ? "; 0 failures" : $"; {activity.Failures.Count} FAILURES, first: {activity.Failures[0]}");
    }
}

internal sealed record CycleResult(int Cycle, ServerSample End, List<string> Off, CycleActivity Activity);

/// <summary>The whole run: every cycle, the memory trends and the verdict.</summary>
internal sealed record SoakReport(ServerSample Baseline, List<CycleResult> Cycles, double? RssSlopeMbPerHour, double? GcHeapSlopeMbPerHour, double MaxRssSlopeMbPerHour)
{
    public bool CountsFlat => Cycles.All(c => c.Off.Count == 0);

    /// <summary>Unknown (too few cycles to fit a trend) counts as flat: the counts still decide.</summary>
    public bool MemoryFlat => RssSlopeMbPerHour is not { } slope || slope <= MaxRssSlopeMbPerHour;

    public int Failures => Cycles.Sum(c => c.Activity.Failures.Count);

    public bool Passed => CountsFlat && MemoryFlat && Failures == 0;

    public string Verdict()
    {
        var inv = CultureInfo.InvariantCulture;
        var first = Cycles[0].End;
        var last = Cycles[^1].End;
        return string.Join(Environment.NewLine,
            $"cycles: {Cycles.Count}, counts back at baseline after {Cycles.Count(c => c.Off.Count == 0)} of them, {Failures} failed actions",
            string.Create(inv, $"rss: baseline {Baseline.RssBytes / ServerSample.Megabyte:F1} MB, end of cycle 1 {first.RssBytes / ServerSample.Megabyte:F1} MB, end of cycle {Cycles.Count} {last.RssBytes / ServerSample.Megabyte:F1} MB, trend {Trend(RssSlopeMbPerHour)} (threshold {MaxRssSlopeMbPerHour} MB/h)"),
            string.Create(inv, $"gc heap: baseline {Baseline.GcHeapBytes / ServerSample.Megabyte:F1} MB, end of cycle 1 {first.GcHeapBytes / ServerSample.Megabyte:F1} MB, end of cycle {Cycles.Count} {last.GcHeapBytes / ServerSample.Megabyte:F1} MB, trend {Trend(GcHeapSlopeMbPerHour)}"),
            Passed ? "FLAT: every count back at baseline after every cycle, memory trend under the threshold" : "NOT FLAT");
    }

    private static string Trend(double? slope) => slope is { } s ? string.Create(CultureInfo.InvariantCulture, $"{s:+0.00;-0.00} MB/h") : "unknown (fewer than 4 cycles)";
}
