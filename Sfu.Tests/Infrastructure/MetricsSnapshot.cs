using System.Globalization;
using System.Text.RegularExpressions;

namespace Sfu.Tests.Infrastructure;

/// <summary>One scrape of the server's <c>/metrics</c>, by full series name (<c>name{labels}</c>).</summary>
public sealed partial class MetricsSnapshot(IReadOnlyDictionary<string, double> series)
{
    public static async Task<MetricsSnapshot> ScrapeAsync(SfuTestServer server)
    {
        using var http = new HttpClient { BaseAddress = server.HttpBase };
        var text = await http.GetStringAsync("/metrics");
        var series = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (Match match in SeriesLine().Matches(text))
            series[match.Groups[1].Value] = double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        return new MetricsSnapshot(series);
    }

    /// <summary>The value of a series, 0 when it was never recorded.</summary>
    public double this[string name] => series.GetValueOrDefault(name);

    /// <summary>The sum of every series of one metric, whatever its labels.</summary>
    public double Sum(string name) =>
        series.Where(p => p.Key == name || p.Key.StartsWith(name + "{", StringComparison.Ordinal)).Sum(p => p.Value);

    /// <summary>The media and liveness series, for failure messages.</summary>
    public override string ToString() =>
        string.Join("; ", series.Where(p => p.Key.StartsWith("sfu_media", StringComparison.Ordinal))
            .Select(p => $"{p.Key}={p.Value}"));

    [GeneratedRegex(@"^([a-z_]+(?:\{[^}]*\})?) ([0-9.eE+-]+)$", RegexOptions.Multiline)]
    private static partial Regex SeriesLine();
}
