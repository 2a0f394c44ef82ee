namespace Sfu.Soak;

/// <summary>Whether the server is back where it started: counts equal to the baseline, memory without a trend.</summary>
internal static class Flatness
{
    /// <summary>Each count that differs from the baseline, as "name value (baseline b)"; empty when all are back.</summary>
    public static List<string> CountsOffBaseline(ServerSample baseline, ServerSample end) =>
        baseline.Counts.Zip(end.Counts)
            .Where(pair => pair.First.Value != pair.Second.Value)
            .Select(pair => $"{pair.First.Name} {pair.Second.Value} (baseline {pair.First.Value})")
            .ToList();

    public static bool CountsAtBaseline(ServerSample baseline, ServerSample end) => CountsOffBaseline(baseline, end).Count == 0;

    /// <summary>
    /// Least-squares growth of <paramref name="value"/> in MB per hour across the end-of-cycle samples, leaving out the
    /// first cycle (JIT, pools and GC budgets settle there); null until three points remain.
    /// </summary>
    public static double? SlopeMbPerHour(IReadOnlyList<ServerSample> cycleEnds, Func<ServerSample, double> value)
    {
        var points = cycleEnds.Skip(1).ToList();
        if (points.Count < 3) return null;
        var meanX = points.Average(p => p.Seconds);
        var meanY = points.Average(value);
        var covariance = points.Sum(p => (p.Seconds - meanX) * (value(p) - meanY));
        var variance = points.Sum(p => (p.Seconds - meanX) * (p.Seconds - meanX));
        return variance == 0 ? null : covariance / variance * 3600 / ServerSample.Megabyte;
    }
}
