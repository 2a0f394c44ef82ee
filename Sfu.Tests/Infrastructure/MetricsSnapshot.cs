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

    [GeneratedRegex(@"^([a-z_]+(?:\{[^}]*\})?) ([0-9.eE+-]+)$", RegexOptions.Multiline)]
    private static partial Regex SeriesLine();
}
