namespace Sfu.Media.Congestion;

/// <summary>
/// Where the link's capacity probably is: a running average of the acknowledged rate at each overuse (the rate
/// the link carried when its queue started to grow), with its spread. Near it the rate controller creeps up
/// additively; far from it (or when the acknowledged rate leaves the band, i.e. the link changed) it may
/// multiply again.
/// </summary>
public sealed class LinkCapacityEstimate
{
    private const double Smoothing = 0.05;
    private const double MinDeviation = 0.4;
    private const double MaxDeviation = 2.5;

    private double? _estimateKbps;
    private double _deviationKbps = MinDeviation;

    public bool HasEstimate => _estimateKbps is not null;

    /// <summary>Bits per second, or 0 with no estimate.</summary>
    public long Bitrate => _estimateKbps is { } kbps ? (long)(kbps * 1000) : 0;

    public long UpperBound => _estimateKbps is { } kbps ? (long)((kbps + (3 * Spread(kbps))) * 1000) : long.MaxValue;

    public long LowerBound => _estimateKbps is { } kbps ? (long)(Math.Max(0, kbps - (3 * Spread(kbps))) * 1000) : 0;

    public void OnOveruse(long ackedBitrate)
    {
        var sample = ackedBitrate / 1000.0;
        var estimate = _estimateKbps is { } previous ? ((1 - Smoothing) * previous) + (Smoothing * sample) : sample;
        var error = estimate - sample;
        _deviationKbps = Math.Clamp(((1 - Smoothing) * _deviationKbps) + (Smoothing * error * error / Math.Max(estimate, 1)), MinDeviation, MaxDeviation);
        _estimateKbps = estimate;
    }

    public void Reset()
    {
        _estimateKbps = null;
        _deviationKbps = MinDeviation;
    }

    private double Spread(double kbps) => Math.Sqrt(_deviationKbps * kbps);
}
