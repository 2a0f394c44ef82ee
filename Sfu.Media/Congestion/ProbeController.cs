namespace Sfu.Media.Congestion;

/// <summary>
/// Decides when to probe and at what rate. At start (and on every new link) it probes at 3 and 6 times the
/// start rate and, while each probe comes back near its target, doubles on; after a drop of the estimate to
/// under two thirds it probes once, a second later, at 85 % of where it was (a short outage or a competing
/// burst should not cost minutes of slow climbing); and while the allocation wants more than the estimate it
/// probes at twice the estimate (at most what is wanted) every 5 s. Probing stops at the configured maximum.
/// </summary>
public sealed class ProbeController(long maxBitrate)
{
    private const int MaxPending = 4;
    private const double ExponentialContinueShare = 0.7;
    private const double DropShare = 0.66;
    private const double DropRecoveryShare = 0.85;
    private const long DropRecoveryDelayUs = 1_000_000;
    private const long DropWindowUs = 5_000_000;
    private const long PeriodicIntervalUs = 5_000_000;

    private readonly long[] _pending = new long[MaxPending];
    private int _pendingCount;
    private int _nextId = 1;
    private bool _exponential;
    private long _exponentialTarget;
    private long _desired;
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
        Enqueue(3 * startBitrate);
        EnqueueExponential(6 * startBitrate);
    }

    /// <summary>What the allocator would send if it could (bits/s).</summary>
    public void SetDesiredBitrate(long bitrate) => _desired = bitrate;

    /// <summary>A probe cluster came back: keep doubling while start-up probes find what they look for.</summary>
    public void OnProbeResult(long result, long target)
    {
        // Only the highest cluster sent so far decides: lower ones were bound to pass.
        if (!_exponential || target != _exponentialTarget) return;
        if (result >= ExponentialContinueShare * target && target < maxBitrate) EnqueueExponential(2 * result);
        else _exponential = false;
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
            if (_dropProbeTarget > estimate) Enqueue(_dropProbeTarget);
            _dropProbeTarget = 0;
        }
        if (_pendingCount == 0 && _desired > estimate && nowUs - _lastProbeUs >= PeriodicIntervalUs)
        {
            Enqueue(Math.Min(2 * estimate, _desired));
        }
        while (_pendingCount > 0)
        {
            var target = _pending[0];
            _pendingCount--;
            Array.Copy(_pending, 1, _pending, 0, _pendingCount);
            if (target <= estimate) continue; // the estimate already got there
            _lastProbeUs = nowUs;
            cluster = ProbeCluster.For(_nextId++, target);
            return true;
        }
        cluster = default;
        return false;
    }

    private void EnqueueExponential(long target)
    {
        _exponentialTarget = Math.Min(target, maxBitrate);
        Enqueue(target);
    }

    private void Enqueue(long target)
    {
        target = Math.Min(target, maxBitrate);
        if (_pendingCount < MaxPending) _pending[_pendingCount++] = target;
    }
}
