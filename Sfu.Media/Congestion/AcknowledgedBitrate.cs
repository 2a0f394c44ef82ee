namespace Sfu.Media.Congestion;

/// <summary>
/// The rate the receiver actually got: bytes reported received, bucketed by arrival time (100 ms buckets, the
/// last 5 complete ones summed). What the link carried is what an overuse cut is based on, not what was sent.
/// </summary>
public sealed class AcknowledgedBitrate
{
    private const long BucketUs = 100_000;
    private const int Buckets = 5;
    private const int MinBuckets = 2;

    private readonly long[] _bytes = new long[Buckets];
    private long _currentBucket = -1;
    private long _currentBytes;
    private int _complete;

    /// <summary>Bits per second over the last complete buckets, or 0 before two of them.</summary>
    public long Bitrate { get; private set; }

    public void OnPacketAcknowledged(int size, long arrivalTimeUs)
    {
        var bucket = arrivalTimeUs / BucketUs;
        if (_currentBucket < 0) _currentBucket = bucket;
        if (bucket < _currentBucket) bucket = _currentBucket; // reordered arrival: count it now
        while (_currentBucket < bucket)
        {
            // Close the current bucket; empty buckets between count as silence.
            _bytes[(int)(_currentBucket % Buckets)] = _currentBytes;
            _currentBytes = 0;
            _currentBucket++;
            _complete = Math.Min(_complete + 1, Buckets);
            if (bucket - _currentBucket > Buckets) _currentBucket = bucket - Buckets;
        }
        _currentBytes += size;
        if (_complete >= MinBuckets)
        {
            long sum = 0;
            for (var i = 1; i <= _complete; i++) sum += _bytes[(int)((_currentBucket - i) % Buckets)];
            Bitrate = sum * 8 * 1_000_000 / (_complete * BucketUs);
        }
    }

    public void Reset()
    {
        Array.Clear(_bytes);
        _currentBucket = -1;
        _currentBytes = 0;
        _complete = 0;
        Bitrate = 0;
    }
}
