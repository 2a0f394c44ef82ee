using System.Globalization;
using System.Text.RegularExpressions;

namespace Sfu.Soak;

/// <summary>One scrape of the server's <c>/metrics</c>: its memory and every count that must return to baseline.</summary>
/// <param name="Seconds">Since the soak started.</param>
/// <param name="RssBytes">Working set (<c>dotnet_process_memory_working_set_bytes</c>, the process's RSS on Linux).</param>
/// <param name="GcHeapBytes">Managed heap after the last collection, every generation (<c>dotnet_gc_last_collection_heap_size_bytes</c>).</param>
internal sealed partial record ServerSample(
    double Seconds, double RssBytes, double GcHeapBytes, long Transports, long Sessions, long Sockets, long Rooms, long Peers)
{
    /// <summary>The counts a finished cycle must bring back to where they were, with their names.</summary>
    public IEnumerable<(string Name, long Value)> Counts =>
    [
        ("transports", Transports), ("sessions", Sessions), ("sockets", Sockets), ("rooms", Rooms), ("peers", Peers),
    ];

    public static async Task<ServerSample> ScrapeAsync(HttpClient http, double seconds, CancellationToken cancel)
    {
        var text = await http.GetStringAsync("/metrics", cancel);
        var series = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (Match match in SeriesLine().Matches(text))
        {
            var name = match.Groups[1].Value;
            // Labelled series (one per GC generation) are summed under the bare metric name.
            series[name] = series.GetValueOrDefault(name) + double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        }

        long Count(string name) => (long)series.GetValueOrDefault(name);
        return new ServerSample(
            seconds,
            series.GetValueOrDefault("dotnet_process_memory_working_set_bytes"),
            series.GetValueOrDefault("dotnet_gc_last_collection_heap_size_bytes"),
            Count("sfu_media_transports"),
            Count("sfu_sessions"),
            Count("sfu_sockets"),
            Count("sfu_rooms"),
            Count("sfu_peers"));
    }

    public const string CsvHeader = "seconds,cycle,phase,rss_mb,gc_heap_mb,transports,sessions,sockets,rooms,peers";

    public string ToCsv(int cycle, string phase) => string.Create(CultureInfo.InvariantCulture,
        $"{Seconds:F1},{cycle},{phase},{RssBytes / Megabyte:F2},{GcHeapBytes / Megabyte:F2},{Transports},{Sessions},{Sockets},{Rooms},{Peers}");

    public const double Megabyte = 1024 * 1024;

    // name (labels dropped) and value of one exposition line.
    [GeneratedRegex(@"^([a-z_]+)(?:\{[^}]*\})? ([0-9.eE+-]+)$", RegexOptions.Multiline)]
    private static partial Regex SeriesLine();
}
