namespace Sfu.Media.Congestion;

/// <summary>
/// The delay gradient: how fast one-way queueing delay grows, as the slope of a least-squares line through the
/// last <see cref="WindowSize"/> smoothed, accumulated delay variations against arrival time. A positive slope
/// means packets queue up somewhere (the link is full); negative, a queue drains. Same approach as libwebrtc's
/// trendline estimator: per-group deltas are noisy, their running sum after exponential smoothing is not.
/// </summary>
public sealed class TrendlineEstimator
{
    public const int WindowSize = 20;
    private const double SmoothingCoefficient = 0.9;
    private const int MaxDeltaCount = 1000;

    private readonly double[] _arrivalMs = new double[WindowSize];
    private readonly double[] _smoothedDelayMs = new double[WindowSize];
    private int _count;
    private int _next;
    private long _firstArrivalUs = -1;
    private double _accumulatedDelayMs;
    private double _smoothedMs;

    /// <summary>The last slope (ms of delay growth per ms); 0 until the window first fills.</summary>
    public double Trend { get; private set; }

    /// <summary>Group deltas seen (capped): confidence in <see cref="Trend"/> grows with it.</summary>
    public int DeltaCount { get; private set; }

    public void Update(GroupDelta delta)
    {
        if (_firstArrivalUs < 0) _firstArrivalUs = delta.ArrivalTimeUs;
        DeltaCount = Math.Min(DeltaCount + 1, MaxDeltaCount);
        _accumulatedDelayMs += delta.ArrivalDeltaMs - delta.SendDeltaMs;
        _smoothedMs = (SmoothingCoefficient * _smoothedMs) + ((1 - SmoothingCoefficient) * _accumulatedDelayMs);

        _arrivalMs[_next] = (delta.ArrivalTimeUs - _firstArrivalUs) / 1000.0;
        _smoothedDelayMs[_next] = _smoothedMs;
        _next = (_next + 1) % WindowSize;
        _count = Math.Min(_count + 1, WindowSize);
        if (_count == WindowSize && Slope() is { } slope) Trend = slope;
    }

    public void Reset()
    {
        _count = _next = 0;
        _firstArrivalUs = -1;
        _accumulatedDelayMs = _smoothedMs = 0;
        Trend = 0;
        DeltaCount = 0;
    }

    private double? Slope()
    {
        double sumX = 0, sumY = 0;
        for (var i = 0; i < _count; i++)
        {
            sumX += _arrivalMs[i];
            sumY += _smoothedDelayMs[i];
        }
        var meanX = sumX / _count;
        var meanY = sumY / _count;
        double numerator = 0, denominator = 0;
        for (var i = 0; i < _count; i++)
        {
            var dx = _arrivalMs[i] - meanX;
            numerator += dx * (_smoothedDelayMs[i] - meanY);
            denominator += dx * dx;
        }
        return denominator == 0 ? null : numerator / denominator;
    }
}
