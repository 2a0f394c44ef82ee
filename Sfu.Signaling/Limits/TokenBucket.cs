namespace Sfu.Signaling.Limits;

/// <summary>
/// A classic token bucket on a <see cref="TimeProvider"/>: <c>capacity</c> tokens, refilled at <c>ratePerSecond</c>.
/// Used for join rates, message rates and the strikes that close abusive sockets. Thread-safe.
/// </summary>
public sealed class TokenBucket
{
    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly double _capacity;
    private readonly double _perTimestampUnit;
    private double _tokens;
    private long _updated;

    public TokenBucket(TimeProvider time, double capacity, double ratePerSecond)
    {
        _time = time;
        _capacity = capacity;
        _perTimestampUnit = ratePerSecond / time.TimestampFrequency;
        _tokens = capacity;
        _updated = time.GetTimestamp();
    }

    /// <summary>Takes one token; false when the bucket is empty.</summary>
    public bool TryTake()
    {
        lock (_gate)
        {
            Refill();
            if (_tokens < 1) return false;
            _tokens -= 1;
            return true;
        }
    }

    /// <summary>True when the bucket has refilled completely, i.e. it holds no memory of past use.</summary>
    public bool IsFull
    {
        get
        {
            lock (_gate)
            {
                Refill();
                return _tokens >= _capacity;
            }
        }
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        _tokens = Math.Min(_capacity, _tokens + (now - _updated) * _perTimestampUnit);
        _updated = now;
    }
}
