namespace Sfu.Media.Congestion;

/// <summary>
/// The loss-based rate: with under 2 % of packets lost the link is not the problem, so raise the rate by up to
/// 8 % a second (plus 1 kbit/s); between 2 and 10 % hold; above 10 % cut by half the loss fraction, at most once
/// per round trip plus 300 ms (the time it takes the cut to show in new reports), and never below what the receiver
/// acknowledged getting: a link that delivered that rate while it dropped the excess carries it. Without that floor,
/// a shaped link that drops most of a burst (a keyframe into a full token bucket) reports loss fractions that cut
/// the rate to a fraction of the link (to 87 kbit/s behind a 400 kbit/s bucket, pausing the video for 9 s).
/// </summary>
public sealed class LossBasedControl(long minBitrate, long maxBitrate)
{
    public const double LowLoss = 0.02;
    public const double HighLoss = 0.10;
    private const double GainPerSecond = 0.08;
    private const long IncreaseStep = 1_000;
    private const long DecreaseIntervalUs = 300_000;

    private long _lastIncreaseUs = -1;
    private long _lastDecreaseUs = long.MinValue / 2;

    /// <summary>The rate after a loss report on <paramref name="current"/>, the sender's current target.</summary>
    /// <param name="acknowledged">The rate the receiver reported getting lately (0 if unknown).</param>
    public long Update(long current, double lossFraction, long acknowledged, long rttUs, long nowUs)
    {
        var next = current;
        if (lossFraction <= LowLoss)
        {
            var elapsed = _lastIncreaseUs < 0 ? 0 : Math.Min(nowUs - _lastIncreaseUs, 1_000_000) / 1e6;
            next = (long)(current * (1 + (GainPerSecond * elapsed))) + IncreaseStep;
            _lastIncreaseUs = nowUs;
        }
        else if (lossFraction > HighLoss)
        {
            _lastIncreaseUs = nowUs;
            if (nowUs - _lastDecreaseUs >= DecreaseIntervalUs + rttUs)
            {
                next = Math.Max((long)(current * (1 - (0.5 * lossFraction))), Math.Min(current, acknowledged));
                _lastDecreaseUs = nowUs;
            }
        }
        else
        {
            _lastIncreaseUs = nowUs;
        }
        return Math.Clamp(next, minBitrate, maxBitrate);
    }

    public void Reset()
    {
        _lastIncreaseUs = -1;
        _lastDecreaseUs = long.MinValue / 2;
    }
}
