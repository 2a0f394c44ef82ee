namespace Sfu.Media.Congestion;

/// <summary>
/// Decides when to probe and at what rate. At start (and on every new link) it probes at 3 and 6 times the
/// start rate and, while each probe comes back near its target, doubles on; after a drop of the estimate to
/// under two thirds it probes once, a second later, at 85 % of where it was (a short outage or a competing
/// burst should not cost minutes of slow climbing); and while the allocation wants more than the estimate it
/// probes at twice the estimate (at most a quarter above what is wanted) every 5 s. A mid-call probe that comes
/// back near its target is followed at once by one at twice its result, as far: a link that came back (a limit
/// lifted) is found in two probes instead of two periods. Probing stops at the configured maximum.
/// </summary>
public sealed class ProbeController(long maxBitrate)
{
    private const int MaxPending = 4;
    private const double ContinueShare = 0.7;
    private const double DropShare = 0.66;
    private const double DropRecoveryShare = 0.85;
    private const long DropRecoveryDelayUs = 1_000_000;
    private const long DropWindowUs = 5_000_000;
    private const long PeriodicIntervalUs = 5_000_000;

    private readonly long[] _pending = new long[MaxPending];
    private int _pendingCount;
    private int _nextId = 1;
    private bool _exponential;
    // The cluster whose result decides whether to probe on (0: none).
    private long _followTarget;
    private long _desired;

    // Where a mid-call probe aims: a quarter above what is wanted, because its result comes back under its target
    // (it measures what the sender managed to send, and a loaded sender falls behind its schedule), and a result
    // just at what is wanted would not leave the margin a move up needs.
    private long Aim => _desired + (_desired / 4);
    private long _lastProbeUs = long.MinValue / 2;
    private long _recentMax;
    private long _recentMaxAtUs;
    private long _dropProbeTarget;
    private long _dropProbeAtUs;

    /// <summary>A new link (or the first): probe at once from <paramref name="startBitrate"/>.</summary>
    public void Start(long startBitrate, long nowUs)
    {
        _pendingCount = 0;
        _dropProbeTarget = 0;
        _recentMax = startBitrate;
        _recentMaxAtUs = nowUs;
        _exponential = true;
        Enqueue(3 * startBitrate, follow: false);
        Enqueue(6 * startBitrate, follow: true);
    }

    /// <summary>What the allocator would send if it could (bits/s).</summary>
    public void SetDesiredBitrate(long bitrate) => _desired = bitrate;

    /// <summary>
    /// A probe cluster came back: keep doubling while start-up probes find what they look for; after a mid-call
    /// probe that found its target, probe once more toward what is wanted.
    /// </summary>
    public void OnProbeResult(long result, long target)
    {
        // Only the highest cluster sent so far decides: lower ones were bound to pass.
        if (target != _followTarget) return;
        _followTarget = 0;
        if (result < ContinueShare * target || target >= maxBitrate)
        {
            _exponential = false;
            return;
        }
        var next = _exponential ? 2 * result : Math.Min(2 * result, Aim);
        if (next > target) Enqueue(next, follow: true);
    }

    /// <summary>Every change of the estimate: notices drops worth a recovery probe.</summary>
    public void OnEstimate(long estimate, long nowUs)
    {
        if (estimate >= _recentMax || nowUs - _recentMaxAtUs > DropWindowUs)
        {
            _recentMax = estimate;
            _recentMaxAtUs = nowUs;
            return;
        }
        if (estimate < DropShare * _recentMax && _dropProbeTarget == 0)
        {
            _dropProbeTarget = (long)(DropRecoveryShare * _recentMax);
            _dropProbeAtUs = nowUs + DropRecoveryDelayUs;
            _recentMax = estimate;
            _recentMaxAtUs = nowUs;
        }
    }

    /// <summary>The next cluster to send now, if any (one per call, so clusters are spread over ticks).</summary>
    public bool TryNext(long estimate, long nowUs, out ProbeCluster cluster)
    {
        if (_dropProbeTarget > 0 && nowUs >= _dropProbeAtUs)
        {
            _exponential = false;
            if (_dropProbeTarget > estimate) Enqueue(_dropProbeTarget, follow: true);
            _dropProbeTarget = 0;
        }
        if (_pendingCount == 0 && _desired > estimate && nowUs - _lastProbeUs >= PeriodicIntervalUs)
        {
            _exponential = false;
            Enqueue(Math.Min(2 * estimate, Aim), follow: true);
        }
        while (_pendingCount > 0)
        {
            var target = _pending[0];
            _pendingCount--;
            Array.Copy(_pending, 1, _pending, 0, _pendingCount);
            if (target <= estimate) continue; // the estimate already got there
            _lastProbeUs = nowUs;
            cluster = ProbeCluster.For(_nextId++, target, estimate);
            return true;
        }
        cluster = default;
        return false;
    }

    /// <param name="follow">Its result decides whether to probe on (<see cref="OnProbeResult"/>).</param>
    private void Enqueue(long target, bool follow)
    {
        target = Math.Min(target, maxBitrate);
        if (_pendingCount == MaxPending) return;
        _pending[_pendingCount++] = target;
        if (follow) _followTarget = target;
    }
}
