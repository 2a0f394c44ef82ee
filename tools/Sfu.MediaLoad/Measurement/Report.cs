using System.Globalization;
using Sfu.Client.Media;

namespace Sfu.MediaLoad.Measurement;

/// <summary>How the tool prints figures: invariant culture, one line per figure, and the JSON shapes of the summary.</summary>
static class Report
{
    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    public static string Format(double? value, string format) =>
        value is { } v && !double.IsNaN(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    /// <summary>p50/p99/max in milliseconds, or "none" when no stamped packet arrived.</summary>
    public static string Latency(LatencyHistogram latency) => latency.Count == 0
        ? "none measured"
        : Invariant($"p50 {latency.Percentile(0.5) / 1000:F3} ms, p99 {latency.Percentile(0.99) / 1000:F3} ms, max {latency.MaxMicroseconds / 1000.0:F3} ms ({latency.Count} packets)");

    /// <summary>
    /// The server's own figure: how long datagrams stayed inside it (kernel receive stamp to the loop turn's flush),
    /// p50/p99 read off the histogram's buckets, or null for a server without it.
    /// </summary>
    public static string? Residence(WindowResult w) => w.ServerResidence is { Count: > 0 } r
        ? Invariant($"p50 {Milliseconds(r, 0.5)}, p99 {Milliseconds(r, 0.99)} ({r.Count:F0} loop turns)")
        : null;

    // A quantile in the +Inf bucket reads as the largest bound, which it is at least.
    private static string Milliseconds(ScrapedHistogram histogram, double quantile) =>
        histogram.Quantile(quantile) is { } seconds && seconds < histogram.UpperBounds[^2]
            ? Invariant($"{seconds * 1000:F3} ms")
            : Invariant($"over {histogram.UpperBounds[^2] * 1000:F0} ms");

    public static object? ResidenceJson(WindowResult w) => w.ServerResidence is { } r
        ? new { turns = r.Count, p50Ms = r.Quantile(0.5) * 1000, p99Ms = r.Quantile(0.99) * 1000 }
        : null;

    public static object LatencyJson(LatencyHistogram latency) => new
    {
        packets = latency.Count,
        p50Ms = latency.Count == 0 ? (double?)null : latency.Percentile(0.5) / 1000,
        p99Ms = latency.Count == 0 ? (double?)null : latency.Percentile(0.99) / 1000,
        maxMs = latency.Count == 0 ? (double?)null : latency.MaxMicroseconds / 1000.0,
    };

    /// <summary>Nearest rank: with 100 values, p99 is the 99th smallest.</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    /// <summary>Count, p50, p95, p99 and max; nulls for an empty list (JSON has no NaN).</summary>
    public static object SummaryJson(IReadOnlyCollection<double> values) => values.Count == 0
        ? new { count = 0, p50 = (double?)null, p95 = (double?)null, p99 = (double?)null, max = (double?)null }
        : new { count = values.Count, p50 = (double?)Percentile(values, 0.5), p95 = (double?)Percentile(values, 0.95), p99 = (double?)Percentile(values, 0.99), max = (double?)values.Max() };

    public static void Print(WindowResult w)
    {
        Console.WriteLine(Invariant($"server                    {w.Server}"));
        Console.WriteLine(Invariant($"subscribers N             {w.Subscribers}"));
        Console.WriteLine(Invariant($"window                    {w.Seconds:F1} s"));
        Console.WriteLine(Invariant($"publisher sent            {w.PublisherVideoPackets} video packets in the window"));
        Console.WriteLine(Invariant($"received packets/s        {w.ReceivedPerSecond:F0} (every subscriber's packets, retransmissions included)"));
        if (w.ServerForwardedPerSecond is { } forwarded)
            Console.WriteLine(Invariant($"forwarded packets/s       {forwarded:F0} (the server's own count)"));
        Console.WriteLine(Invariant($"lost per subscriber       min {w.LostMin} avg {w.LostAverage:F1} max {w.LostMax} packets; {w.LossPercent:F3} % of {w.ExpectedTotal} expected in all"));
        Console.WriteLine(w.ServerCpuPercent is null
            ? "server CPU                unknown (no process id)"
            : Invariant($"server CPU                {w.ServerCpuPercent:F1} % of one core; {w.ServerCpuMicrosecondsPerPacket:F2} µs per received packet"));
        // A window with JIT work in it measured the process warming up, not only its packets: say how much. Wall time
        // the compiler was busy, so on a machine whose cores are shared it overstates the CPU it took.
        if (w.ServerJitPercent is { } jit)
            Console.WriteLine(Invariant($"  JIT compiling           {jit:F1} % of the window{(jit >= 1 ? ": the server was still warming up, measure again" : "")}"));
        Console.WriteLine(Invariant($"load tool CPU             {w.ToolCpuPercent:F1} % of one core"));
        if (w.WorkerAllocatedBytesPerPacket is { } allocated)
            Console.WriteLine(Invariant($"worker allocated/packet   {allocated:F3} bytes"));
        Console.WriteLine($"latency (one way)         {Latency(w.Latency)}");
        if (Residence(w) is { } residence)
            Console.WriteLine($"  inside the server       {residence}");
    }

    public static object Json(WindowResult w) => new
    {
        w.Server, w.Subscribers, windowSeconds = w.Seconds, w.PublisherVideoPackets, receivedPerSecond = w.ReceivedPerSecond,
        serverForwardedPerSecond = w.ServerForwardedPerSecond,
        lostPerSubscriber = new { min = w.LostMin, avg = w.LostAverage, max = w.LostMax }, lostTotal = w.LostTotal, w.ExpectedTotal, w.LossPercent,
        serverCpuPercentOfOneCore = w.ServerCpuPercent, serverCpuMicrosecondsPerPacket = w.ServerCpuMicrosecondsPerPacket, serverJitPercentOfWindow = w.ServerJitPercent,
        workerAllocatedBytesPerPacket = w.WorkerAllocatedBytesPerPacket, loadToolCpuPercentOfOneCore = w.ToolCpuPercent,
        latency = LatencyJson(w.Latency),
        serverResidence = ResidenceJson(w),
    };
}
