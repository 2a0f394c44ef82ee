namespace Sfu.Media.Rtp;

/// <summary>
/// Decides when to send a PLI or FIR for one producer stream, however many consumers ask. A request that arrives
/// while it may not go out is not lost: it stays outstanding, and <see cref="Poll"/> sends it once it may. Two gaps
/// apply, both measured from the last request sent. While that request is unanswered (no keyframe since), another
/// goes out only after the interval: a repeat in case the first was lost, and the publisher's protection against a
/// storm of requests. Once a keyframe answered it, a new request (a subscriber joining, or one that lost a packet of
/// the keyframe) goes out after a quarter of the interval: a subscriber joining just after another then waits a
/// quarter of a second for its first picture rather than a second, and the publisher still encodes at most four
/// requested keyframes a second. Not thread-safe: one owner calls it.
/// </summary>
public sealed class KeyframeRequestThrottle
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _afterAnswer;
    private long _lastSent;
    private bool _everSent;
    private bool _answered;

    public KeyframeRequestThrottle(TimeProvider time, TimeSpan? interval = null)
    {
        _time = time;
        _interval = interval ?? DefaultInterval;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_interval, TimeSpan.Zero, nameof(interval));
        _afterAnswer = _interval / 4;
    }

    /// <summary>A keyframe was asked for and has not arrived yet.</summary>
    public bool IsOutstanding { get; private set; }

    /// <summary>The RFC 5104 FIR sequence number for the request just allowed; it advances per request sent.</summary>
    public byte FirSequenceNumber { get; private set; }

    /// <summary>Someone needs a keyframe. True when a PLI/FIR should go out now.</summary>
    public bool Request()
    {
        IsOutstanding = true;
        return TrySend();
    }

    /// <summary>Called on a timer: true when an outstanding request is due (deferred or a retry).</summary>
    public bool Poll() => IsOutstanding && TrySend();

    /// <summary>A keyframe arrived: nothing is outstanding any more, and the last request was answered.</summary>
    public void OnKeyframeReceived()
    {
        IsOutstanding = false;
        _answered = true;
    }

    /// <summary>
    /// The stream arrives again after a silence that began at <paramref name="silentSince"/> (a
    /// <see cref="TimeProvider"/> timestamp). True when a request sent during the silence is still outstanding: it
    /// should go out again now, whatever the interval. A publisher that changes network goes on sending on the dead
    /// path until it has moved, so the keyframe it made for that request was lost with it, and the next retry could
    /// be most of an interval away.
    /// </summary>
    public bool ResendAfterSilence(long silentSince)
    {
        if (!IsOutstanding || !_everSent || _lastSent < silentSince) return false;
        Send(_time.GetTimestamp());
        return true;
    }

    private bool TrySend()
    {
        long now = _time.GetTimestamp();
        if (_everSent && _time.GetElapsedTime(_lastSent, now) < (_answered ? _afterAnswer : _interval))
        {
            return false;
        }

        Send(now);
        return true;
    }

    private void Send(long now)
    {
        _everSent = true;
        _answered = false;
        _lastSent = now;
        FirSequenceNumber++;
    }
}
