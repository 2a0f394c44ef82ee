using System.Numerics;

namespace Sfu.Client.Media;

/// <summary>
/// Counts of durations in microseconds, in a fixed array: exact below 1,024 µs, then 64 buckets per power of two
/// (within 1.6 %) up to about 18 minutes. Recording allocates nothing; not thread-safe (its owner locks).
/// </summary>
public sealed class LatencyHistogram
{
    private const int LinearLimit = 1024;
    private const int LinearBits = 10;
    private const int SubBucketBits = 6;
    private const int MaxBits = 30;
    private readonly long[] _counts = new long[LinearLimit + ((MaxBits - LinearBits) << SubBucketBits)];

    public long Count { get; private set; }

    public long MaxMicroseconds { get; private set; }

    public void Record(long microseconds)
    {
        microseconds = Math.Clamp(microseconds, 0, (1L << MaxBits) - 1);
        _counts[Index(microseconds)]++;
        Count++;
        MaxMicroseconds = Math.Max(MaxMicroseconds, microseconds);
    }

    /// <summary>Adds every count of <paramref name="other"/> to this one.</summary>
    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        MaxMicroseconds = Math.Max(MaxMicroseconds, other.MaxMicroseconds);
    }

    public void Clear()
    {
        Array.Clear(_counts);
        Count = 0;
        MaxMicroseconds = 0;
    }

    /// <summary>The value at or below which a fraction <paramref name="p"/> of the recorded ones lie (nearest rank), µs; NaN when empty.</summary>
    public double Percentile(double p)
    {
        if (Count == 0)
        {
            return double.NaN;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(p * Count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(Middle(i), MaxMicroseconds);
            }
        }

        return MaxMicroseconds;
    }

    private static int Index(long microseconds)
    {
        if (microseconds < LinearLimit)
        {
            return (int)microseconds;
        }

        int power = 63 - BitOperations.LeadingZeroCount((ulong)microseconds);
        int sub = (int)((microseconds >> (power - SubBucketBits)) & ((1 << SubBucketBits) - 1));
        return LinearLimit + ((power - LinearBits) << SubBucketBits) + sub;
    }

    private static double Middle(int index)
    {
        if (index < LinearLimit)
        {
            return index;
        }

        int power = LinearBits + ((index - LinearLimit) >> SubBucketBits);
        int sub = (index - LinearLimit) & ((1 << SubBucketBits) - 1);
        double width = Math.Pow(2, power - SubBucketBits);
        return Math.Pow(2, power) + ((sub + 0.5) * width);
    }
}
