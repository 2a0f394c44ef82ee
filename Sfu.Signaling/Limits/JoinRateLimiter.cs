using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Sfu.Signaling.Limits;

/// <summary>Limits joins per remote IP address, so one host cannot churn rooms and sessions.</summary>
public sealed class JoinRateLimiter(IOptions<SignalingOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);
    private readonly SignalingOptions _options = options.Value;
    private int _joinsSinceCleanup;

    public bool TryAcquire(string remoteAddress)
    {
        var bucket = _buckets.GetOrAdd(remoteAddress, _ => new TokenBucket(time, _options.JoinBurstPerIp, _options.JoinsPerSecondPerIp));
        var allowed = bucket.TryTake();
        if (Interlocked.Increment(ref _joinsSinceCleanup) % 1024 == 0) ForgetIdleAddresses();
        return allowed;
    }

    // A full bucket behaves exactly like a new one, so dropping it loses nothing and keeps the table small.
    private void ForgetIdleAddresses()
    {
        foreach (var (address, bucket) in _buckets)
        {
            if (bucket.IsFull) _buckets.TryRemove(new KeyValuePair<string, TokenBucket>(address, bucket));
        }
    }
}
