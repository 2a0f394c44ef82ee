namespace Sfu.Media.Congestion;

/// <summary>
/// The rate arriving on one transport over the last second, in ten 100 ms buckets. The packet path only adds
/// bytes (<see cref="Add"/>); the worker's tick (more often than a bucket lasts) closes the buckets that have
/// ended (<see cref="BitsPerSecond"/>).
/// Worker thread only.
/// </summary>
public sealed class ReceiveRateMeter
{
    private const int BucketCount = 10;

    private readonly long[] _buckets = new long[BucketCount];
    private readonly long _frequency;
    private readonly long _bucketLength;
    private long _current;
    private long _windowBytes;
    private long _bucketEnd = long.MinValue;
    private int _next;
    private int _filled;

    /// <param name="timestampFrequency">Ticks per second of the timestamps passed in.</param>
    public ReceiveRateMeter(long timestampFrequency)
    {
        _frequency = timestampFrequency;
        _bucketLength = timestampFrequency / BucketCount;
    }

    public void Add(int bytes) => _current += bytes;

    /// <summary>Bits per second over the closed buckets of the last second (fewer in the first second).</summary>
    public long BitsPerSecond(long now)
    {
        if (_bucketEnd == long.MinValue)
        {
            _bucketEnd = now + _bucketLength;
        }

        if (now - _bucketEnd >= _bucketLength * BucketCount)
        {
            // Silent for longer than the window: nothing in it is recent.
            Array.Clear(_buckets);
            _windowBytes = _current = 0;
            _filled = 0;
            _bucketEnd = now + _bucketLength;
        }

        while (now >= _bucketEnd)
        {
            _windowBytes += _current - _buckets[_next];
            _buckets[_next] = _current;
            _current = 0;
            _next = (_next + 1) % BucketCount;
            _filled = Math.Min(_filled + 1, BucketCount);
            _bucketEnd += _bucketLength;
        }

        return _filled == 0 ? 0 : _windowBytes * 8 * _frequency / (_filled * _bucketLength);
    }
}
