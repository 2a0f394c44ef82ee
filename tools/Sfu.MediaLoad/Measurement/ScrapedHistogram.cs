namespace Sfu.MediaLoad.Measurement;

/// <summary>
/// A Prometheus histogram as scraped: its buckets' upper bounds in increasing order (the last +Inf) and their
/// cumulative counts. Two scrapes subtracted give the histogram of what was observed between them.
/// </summary>
sealed record ScrapedHistogram(double[] UpperBounds, double[] Counts)
{
    /// <summary>Observations in all.</summary>
    public double Count => Counts.Length == 0 ? 0 : Counts[^1];

    /// <summary>What was observed after <paramref name="earlier"/> was scraped (the same histogram, the same buckets).</summary>
    public ScrapedHistogram Since(ScrapedHistogram earlier) =>
        new(UpperBounds, [.. Counts.Select((count, i) => count - earlier.Counts[i])]);

    /// <summary>
    /// The <paramref name="quantile"/> (0 to 1), interpolated linearly inside its bucket as Prometheus's
    /// <c>histogram_quantile</c> does; in the +Inf bucket, the largest finite bound (the value is at least that);
    /// null without observations.
    /// </summary>
    public double? Quantile(double quantile)
    {
        if (Count <= 0) return null;
        var rank = quantile * Count;
        for (var i = 0; i < Counts.Length; i++)
        {
            if (Counts[i] < rank) continue;
            if (double.IsPositiveInfinity(UpperBounds[i])) return i == 0 ? null : UpperBounds[i - 1];
            var lower = i == 0 ? 0 : UpperBounds[i - 1];
            var below = i == 0 ? 0 : Counts[i - 1];
            var inBucket = Counts[i] - below;
            return inBucket <= 0 ? UpperBounds[i] : lower + ((UpperBounds[i] - lower) * (rank - below) / inBucket);
        }

        return UpperBounds.Length > 1 ? UpperBounds[^2] : null;
    }
}
