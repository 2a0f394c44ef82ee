namespace Sfu.Media.Rtp;

/// <summary>
/// Decides when to send a PLI or FIR for one producer stream: at most one per interval, however many
/// consumers ask. A request that arrives inside the interval is not lost: it stays outstanding, and
/// <see cref="Poll"/> sends it once the interval is over. An outstanding request is also re-sent each interval
/// until a keyframe arrives, in case the first one was lost. Not thread-safe: one owner calls it.
/// </summary>
public sealed class KeyframeRequestThrottle
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private long _lastSent;
    private bool _everSent;

    public KeyframeRequestThrottle(TimeProvider time, TimeSpan? interval = null)
    {
        _time = time;
        _interval = interval ?? DefaultInterval;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_interval, TimeSpan.Zero, nameof(interval));
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

    /// <summary>A keyframe arrived: nothing is outstanding any more.</summary>
    public void OnKeyframeReceived() => IsOutstanding = false;

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
        if (_everSent && _time.GetElapsedTime(_lastSent, now) < _interval)
        {
            return false;
        }

        Send(now);
        return true;
    }

    private void Send(long now)
    {
        _everSent = true;
        _lastSent = now;
        FirSequenceNumber++;
    }
}
