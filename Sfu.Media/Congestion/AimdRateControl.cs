namespace Sfu.Media.Congestion;

/// <summary>
/// The delay-based rate: additive increase / multiplicative decrease driven by <see cref="BandwidthUsage"/>.
/// Overuse cuts the rate to <see cref="Beta"/> times what the receiver acknowledged, at most once per round trip
/// (up to 200 ms), and never to less than half of it at once: one queue that takes a few feedback reports to drain
/// must not be cut for in every one of them, and the acknowledged rate is measured over half a second, which a
/// receiver that stalls (a browser on a loaded machine) fills with nothing. Cut to 0.85 times that, the estimate
/// fell from 18 Mbit/s to 200 kbit/s on loopback; a link that really shrank is reached in a few halvings.
/// Underuse holds it while the
/// queue drains; normal use raises it, by 8 % a second while the link's capacity is unknown (or has moved),
/// and by about one packet per response time once near the capacity measured at earlier overuses. The rate
/// never rises above 1.5 times the acknowledged rate (plus 10 kbit/s) unless a probe showed more: a sender
/// that does not fill the link has no evidence that it could.
/// </summary>
public sealed class AimdRateControl(long startBitrate, long minBitrate, long maxBitrate)
{
    public const double Beta = 0.85;
    private const double MultiplicativeGainPerSecond = 0.08;
    private const long MinMultiplicativeStep = 1_000;
    private const long MinAdditiveRate = 4_000;
    private const long ResponseExtraUs = 100_000;
    private const double FramesPerSecond = 30;
    private const int MtuBits = 1200 * 8;
    private const long ThroughputMargin = 10_000;
    private const double ThroughputLimitFactor = 1.5;
    private const long MinReductionIntervalUs = 10_000;
    private const long MaxReductionIntervalUs = 200_000;

    private readonly LinkCapacityEstimate _capacity = new();
    private RateControlState _state = RateControlState.Hold;
    private long _lastChangeUs = -1;
    private long _lastDecreaseUs = long.MinValue / 2;

    private enum RateControlState { Hold, Increase, Decrease }

    public long Bitrate { get; private set; } = startBitrate;

    /// <summary>One detector verdict with the acknowledged rate (0 if unknown) and the round-trip time.</summary>
    /// <returns>The new delay-based rate.</returns>
    public long Update(BandwidthUsage usage, long ackedBitrate, long rttUs, long nowUs)
    {
        _state = (usage, _state) switch
        {
            (BandwidthUsage.Overusing, _) => RateControlState.Decrease,
            (BandwidthUsage.Underusing, _) => RateControlState.Hold,
            (BandwidthUsage.Normal, RateControlState.Hold) => RateControlState.Increase,
            _ => _state,
        };
        if (_lastChangeUs < 0) _lastChangeUs = nowUs;
        // The link moved (Wi-Fi came back, a competing flow left): what was learned about its capacity is stale.
        if (ackedBitrate > 0 && ackedBitrate > _capacity.UpperBound) _capacity.Reset();

        var elapsedUs = Math.Min(nowUs - _lastChangeUs, 1_000_000);
        var next = Bitrate;
        switch (_state)
        {
            case RateControlState.Increase:
                next += _capacity.HasEstimate ? AdditiveStep(rttUs, elapsedUs) : MultiplicativeStep(elapsedUs);
                if (ackedBitrate > 0)
                {
                    var limit = (long)(ThroughputLimitFactor * ackedBitrate) + ThroughputMargin;
                    if (next > limit) next = Math.Max(Bitrate, limit);
                }
                _lastChangeUs = nowUs;
                break;
            case RateControlState.Decrease when !TimeToReduceFurther(rttUs, nowUs):
                _state = RateControlState.Hold;
                _lastChangeUs = nowUs;
                break;
            case RateControlState.Decrease:
                var basis = ackedBitrate > 0 ? ackedBitrate : Bitrate;
                next = (long)(Beta * basis);
                // Never raise the rate on overuse; if the acknowledged figure is above it, cut from the capacity instead.
                if (next > Bitrate && _capacity.HasEstimate) next = (long)(Beta * _capacity.Bitrate);
                next = Math.Min(next, Bitrate);
                next = Math.Max(next, Bitrate / 2);
                if (ackedBitrate > 0)
                {
                    if (ackedBitrate < _capacity.LowerBound) _capacity.Reset();
                    _capacity.OnOveruse(ackedBitrate);
                }
                _state = RateControlState.Hold;
                _lastChangeUs = _lastDecreaseUs = nowUs;
                break;
            default:
                _lastChangeUs = nowUs;
                break;
        }
        Bitrate = Math.Clamp(next, minBitrate, maxBitrate);
        return Bitrate;
    }

    /// <summary>A probe measured this much: take it as the rate (it is evidence, unlike an unfilled increase).</summary>
    public void SetBitrate(long bitrate, long nowUs)
    {
        Bitrate = Math.Clamp(bitrate, minBitrate, maxBitrate);
        _lastChangeUs = nowUs;
    }

    /// <summary>A new link: back to the start rate with nothing learned.</summary>
    public void Reset(long startRate)
    {
        Bitrate = Math.Clamp(startRate, minBitrate, maxBitrate);
        _capacity.Reset();
        _state = RateControlState.Hold;
        _lastChangeUs = -1;
        _lastDecreaseUs = long.MinValue / 2;
    }

    private bool TimeToReduceFurther(long rttUs, long nowUs) =>
        nowUs - _lastDecreaseUs >= Math.Clamp(rttUs, MinReductionIntervalUs, MaxReductionIntervalUs);

    private long MultiplicativeStep(long elapsedUs)
    {
        var gain = Math.Pow(1 + MultiplicativeGainPerSecond, elapsedUs / 1e6) - 1;
        return Math.Max((long)(Bitrate * gain), MinMultiplicativeStep);
    }

    // About one packet per response time: a frame's worth of bits spread over the packets it needs.
    private long AdditiveStep(long rttUs, long elapsedUs)
    {
        var bitsPerFrame = Bitrate / FramesPerSecond;
        var packetsPerFrame = Math.Ceiling(bitsPerFrame / MtuBits);
        var packetBits = bitsPerFrame / packetsPerFrame;
        var responseSeconds = (rttUs + ResponseExtraUs) / 1e6;
        var ratePerSecond = Math.Max(MinAdditiveRate, packetBits / responseSeconds);
        return (long)(ratePerSecond * elapsedUs / 1e6);
    }
}
