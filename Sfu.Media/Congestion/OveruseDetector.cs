namespace Sfu.Media.Congestion;

/// <summary>What the delay gradient says about the link.</summary>
public enum BandwidthUsage
{
    /// <summary>Delay is steady: there is room, or at least no queue.</summary>
    Normal,

    /// <summary>A queue is draining: hold the rate until it has.</summary>
    Underusing,

    /// <summary>A queue is building: send less.</summary>
    Overusing,
}

/// <summary>
/// Turns the trendline's slope into <see cref="BandwidthUsage"/> against a threshold that adapts: it rises
/// slowly towards large slopes (so competing TCP flows, whose queues swing the delay, do not starve this flow)
/// and falls faster back towards small ones (so real congestion is still seen). Overuse is declared only when
/// the slope stays above the threshold for 10 ms of send time and two groups and is not falling.
/// </summary>
public sealed class OveruseDetector
{
    private const double ThresholdGain = 4;
    private const int MaxTrendScale = 60;
    private const double InitialThresholdMs = 12.5;
    private const double MinThresholdMs = 6;
    private const double MaxThresholdMs = 600;
    private const double RiseRate = 0.0087;
    private const double FallRate = 0.039;
    private const double OutlierMarginMs = 15;
    private const double MaxThresholdStepMs = 100;
    private const double OverusingTimeMs = 10;

    private double _timeOverUsingMs = -1;
    private int _overuseCount;
    private double _previousTrend;
    private long _lastThresholdUpdateUs = -1;

    public double ThresholdMs { get; private set; } = InitialThresholdMs;

    public BandwidthUsage State { get; private set; } = BandwidthUsage.Normal;

    /// <param name="trend">The trendline's slope.</param>
    /// <param name="deltaCount">How many group deltas the slope rests on: a young trendline counts for less.</param>
    /// <param name="sendDeltaMs">The send time the last group delta spans.</param>
    /// <param name="nowUs">The arrival time of the last group (the threshold adapts over it).</param>
    public BandwidthUsage Detect(double trend, int deltaCount, double sendDeltaMs, long nowUs)
    {
        var modified = Math.Min(deltaCount, MaxTrendScale) * trend * ThresholdGain;
        if (modified > ThresholdMs)
        {
            _timeOverUsingMs = _timeOverUsingMs < 0 ? sendDeltaMs / 2 : _timeOverUsingMs + sendDeltaMs;
            _overuseCount++;
            if (_timeOverUsingMs > OverusingTimeMs && _overuseCount > 1 && trend >= _previousTrend)
            {
                _timeOverUsingMs = 0;
                _overuseCount = 0;
                State = BandwidthUsage.Overusing;
            }
        }
        else
        {
            _timeOverUsingMs = -1;
            _overuseCount = 0;
            State = modified < -ThresholdMs ? BandwidthUsage.Underusing : BandwidthUsage.Normal;
        }
        _previousTrend = trend;
        AdaptThreshold(modified, nowUs);
        return State;
    }

    public void Reset()
    {
        _timeOverUsingMs = -1;
        _overuseCount = 0;
        _previousTrend = 0;
        _lastThresholdUpdateUs = -1;
        ThresholdMs = InitialThresholdMs;
        State = BandwidthUsage.Normal;
    }

    private void AdaptThreshold(double modified, long nowUs)
    {
        if (_lastThresholdUpdateUs < 0) _lastThresholdUpdateUs = nowUs;
        var magnitude = Math.Abs(modified);
        // A spike far above the threshold (a route change, a delayed burst) must not drag the threshold up with it.
        if (magnitude > ThresholdMs + OutlierMarginMs)
        {
            _lastThresholdUpdateUs = nowUs;
            return;
        }
        var rate = magnitude < ThresholdMs ? FallRate : RiseRate;
        var elapsedMs = Math.Min((nowUs - _lastThresholdUpdateUs) / 1000.0, MaxThresholdStepMs);
        ThresholdMs = Math.Clamp(ThresholdMs + (rate * (magnitude - ThresholdMs) * elapsedMs), MinThresholdMs, MaxThresholdMs);
        _lastThresholdUpdateUs = nowUs;
    }
}
