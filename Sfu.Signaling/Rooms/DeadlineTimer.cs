namespace Sfu.Signaling.Rooms;

/// <summary>
/// One timer for many deadlines (Kestrel's heartbeat idea, but exact): it fires at the earliest deadline
/// anyone asked for, runs one sweep, and re-arms itself for the earliest deadline the sweep reports. Sweeps
/// are at least <c>minInterval</c> apart so that thousands of peers with spread deadlines cost a few sweeps
/// a second, not one per peer.
/// </summary>
internal sealed class DeadlineTimer : IDisposable
{
    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly Func<long, long> _sweep;
    private readonly long _minInterval;
    private readonly ITimer _timer;
    private long _armedFor = long.MaxValue;
    private long _lastSweep = long.MinValue / 2;
    private bool _disposed;

    /// <param name="sweep">Called with "now"; returns the next deadline (<see cref="long.MaxValue"/> for none).</param>
    public DeadlineTimer(TimeProvider time, Func<long, long> sweep, TimeSpan minInterval)
    {
        _time = time;
        _sweep = sweep;
        _minInterval = (long)(minInterval.TotalSeconds * time.TimestampFrequency);
        _timer = time.CreateTimer(_ => Fire(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Makes sure a sweep runs at <paramref name="deadline"/> or before it.</summary>
    public void Request(long deadline)
    {
        lock (_gate)
        {
            if (_disposed || deadline >= _armedFor) return;
            ArmLocked(deadline);
        }
    }

    private void Fire()
    {
        long now;
        lock (_gate)
        {
            if (_disposed) return;
            _armedFor = long.MaxValue;
            now = _time.GetTimestamp();
            _lastSweep = now;
        }
        // The sweep takes room locks, and rooms call Request under theirs: never hold our lock across it.
        Request(_sweep(now));
    }

    private void ArmLocked(long deadline)
    {
        var due = Math.Max(deadline, _lastSweep + _minInterval);
        _armedFor = due;
        var now = _time.GetTimestamp();
        _timer.Change(due > now ? _time.GetElapsedTime(now, due) : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    public void Dispose()
    {
        lock (_gate) _disposed = true;
        _timer.Dispose();
    }
}
