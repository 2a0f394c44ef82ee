namespace Sfu.Media.Congestion;

/// <summary>
/// A stretch of sending faster than the estimate to see whether the link carries it: <see cref="Bytes"/> sent at
/// <see cref="TargetBitrate"/>, paced over <see cref="Duration"/> (<see cref="ProbePacer"/>), media and padding
/// together. Paced rather than sent back to back, and long enough for its second half to meet the bottleneck's
/// own rate: a token bucket lets a short burst through at line rate (a 3 KB bucket passes a 15 ms cluster at
/// 800 kbit/s untouched), so a burst measures the bucket, not the link.
/// </summary>
/// <param name="Id">Non-zero; every packet sent while the cluster runs is recorded under it.</param>
/// <param name="TargetBitrate">The rate the cluster tests, bits/s.</param>
/// <param name="Bytes">How much to send: <see cref="NominalDuration"/> worth at the target rate, within bounds.</param>
public readonly record struct ProbeCluster(int Id, long TargetBitrate, int Bytes)
{
    /// <summary>How long a cluster lasts when its bytes are not bounded.</summary>
    public static readonly TimeSpan NominalDuration = TimeSpan.FromMilliseconds(100);

    /// <summary>Padding an RTP packet can carry (its padding-length byte), rounded down to whole 32-bit words.</summary>
    public const int MaxPacketBytes = 252;

    /// <summary>At least a few packets' worth, so that a low target still gives arrivals to measure.</summary>
    public const int MinBytes = 8 * MaxPacketBytes;

    /// <summary>At most this much per cluster: at high targets the cluster is shorter instead.</summary>
    public const int MaxBytes = 128 * MaxPacketBytes;

    /// <summary>
    /// At most this much more than the estimate would send in the cluster's time: what a link no faster than the
    /// estimate must queue. 8 KB is 160 ms at 400 kbit/s, within the queue of a shaped link, so a probe far above
    /// the estimate (a recovery probe after a drop) is shortened rather than dropped with audio in it.
    /// </summary>
    public const int MaxExcessBytes = 8_000;

    /// <summary>A cluster testing <paramref name="targetBitrate"/> on a link estimated at <paramref name="estimate"/> (bits/s).</summary>
    public static ProbeCluster For(int id, long targetBitrate, long estimate)
    {
        var bytes = targetBitrate * NominalDuration.Ticks / TimeSpan.TicksPerSecond / 8;
        var excess = targetBitrate - estimate;
        if (excess > 0) bytes = Math.Min(bytes, MaxExcessBytes * targetBitrate / excess);
        return new ProbeCluster(id, targetBitrate, (int)Math.Clamp(bytes, MinBytes, MaxBytes));
    }

    /// <summary>How long sending <see cref="Bytes"/> at the target takes, µs.</summary>
    public long DurationUs => Math.Max(1, Bytes * 8L * 1_000_000 / Math.Max(1, TargetBitrate));
}
