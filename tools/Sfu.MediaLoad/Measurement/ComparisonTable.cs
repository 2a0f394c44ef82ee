namespace Sfu.MediaLoad.Measurement;

/// <summary>The side-by-side table of two servers' figures, and the ratio of the first's to the second's.</summary>
static class ComparisonTable
{
    public static void Print(ServerFigures a, ServerFigures b)
    {
        var rows = new List<(string Name, double? A, double? B, string Format)>
        {
            ($"forwarded packets/s, N={a.Load?.Subscribers ?? b.Load?.Subscribers}", a.Load?.ReceivedPerSecond, b.Load?.ReceivedPerSecond, "F0"),
            ("server CPU, % of one core", a.Load?.ServerCpuPercent, b.Load?.ServerCpuPercent, "F1"),
            ("server CPU per forwarded packet, µs", a.Load?.ServerCpuMicrosecondsPerPacket, b.Load?.ServerCpuMicrosecondsPerPacket, "F2"),
            ("server JIT compiling, % of the window", a.Load?.ServerJitPercent, b.Load?.ServerJitPercent, "F1"),
            ("loss, %", a.Load?.LossPercent, b.Load?.LossPercent, "F3"),
            ("latency p50, ms", Percentile(a.Load, 0.5), Percentile(b.Load, 0.5), "F3"),
            ("latency p99, ms", Percentile(a.Load, 0.99), Percentile(b.Load, 0.99), "F3"),
            ("latency max, ms", Max(a.Load), Max(b.Load), "F3"),
            ("inside the server p99, ms (its histogram)", a.Load?.ServerResidence?.Quantile(0.99) * 1000, b.Load?.ServerResidence?.Quantile(0.99) * 1000, "F3"),
            ("largest N without loss", a.Largest, b.Largest, "F0"),
            ("joins timed", a.JoinMs.Count, b.JoinMs.Count, "F0"),
            ("join time p50, ms", JoinPercentile(a, 0.5), JoinPercentile(b, 0.5), "F1"),
            ("join time p99, ms", JoinPercentile(a, 0.99), JoinPercentile(b, 0.99), "F1"),
        };
        int width = rows.Max(r => r.Name.Length) + 2;
        Console.WriteLine($"{"".PadRight(width)}{a.Server,12}{b.Server,12}{$"{a.Server}/{b.Server}",14}");
        foreach (var (name, x, y, format) in rows)
        {
            double? ratio = x is { } p && y is { } q && q != 0 && !double.IsNaN(p) && !double.IsNaN(q) ? p / q : null;
            Console.WriteLine($"{name.PadRight(width)}{Report.Format(x, format),12}{Report.Format(y, format),12}{Report.Format(ratio, "F2"),14}");
        }

        Console.WriteLine("(forwarded: packets the subscribers received, retransmissions included, counted the same way for both servers)");
        foreach (var failure in a.Failures.Select(f => $"{a.Server}: {f}").Concat(b.Failures.Select(f => $"{b.Server}: {f}")))
        {
            Console.WriteLine($"not measured: {failure}");
        }
    }

    public static object Json(ServerFigures f) => new
    {
        server = f.Server, largestWithoutLoss = f.Largest,
        steps = f.Steps.Select(s => new { subscribers = s.Subscribers, passed = s.Passed, s.Failure, window = s.Window is null ? null : Report.Json(s.Window) }),
        load = f.Load is null ? null : Report.Json(f.Load), joinMs = Report.SummaryJson(f.JoinMs), failures = f.Failures,
    };

    private static double? Percentile(WindowResult? w, double p) => w is null || w.Latency.Count == 0 ? null : w.Latency.Percentile(p) / 1000;

    private static double? Max(WindowResult? w) => w is null || w.Latency.Count == 0 ? null : w.Latency.MaxMicroseconds / 1000.0;

    private static double? JoinPercentile(ServerFigures f, double p) => f.JoinMs.Count == 0 ? null : Report.Percentile(f.JoinMs, p);
}
