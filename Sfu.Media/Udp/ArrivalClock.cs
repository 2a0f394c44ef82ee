namespace Sfu.Media.Udp;

/// <summary>
/// Puts the kernel's arrival stamps (wall clock, nanoseconds) on the worker's clock (<see cref="TimeProvider"/>
/// timestamps): a datagram arrived "now" minus how long ago the kernel stamped it. The age is taken on the wall clock
/// at both ends, so the two clocks never have to agree on an epoch, and a worker on a manual clock still gets a
/// sensible value. An age below zero or above <see cref="MaxAgeNanoseconds"/> means the wall clock was stepped between
/// the two readings; the datagram then counts as arriving now.
/// </summary>
public static class ArrivalClock
{
    /// <summary>Longer than any datagram waits in the socket's 4 MiB buffer; more means the wall clock jumped.</summary>
    public const long MaxAgeNanoseconds = 1_000_000_000;

    private const long NanosecondsPerSecond = 1_000_000_000;

    /// <param name="kernelStamp">When the kernel stamped the datagram (ns since the Unix epoch), or null for no stamp.</param>
    /// <param name="workerNow">The worker's clock, read with <paramref name="wallNow"/>.</param>
    /// <param name="wallNow">The wall clock (ns since the Unix epoch), read with <paramref name="workerNow"/>.</param>
    /// <param name="frequency">Ticks per second of the worker's clock.</param>
    public static long ToWorkerTime(long? kernelStamp, long workerNow, long wallNow, long frequency)
    {
        if (kernelStamp is not { } stamp) return workerNow;
        var age = wallNow - stamp;
        if (age is < 0 or > MaxAgeNanoseconds) return workerNow;
        return workerNow - (long)((Int128)age * frequency / NanosecondsPerSecond);
    }

    /// <summary>The wall clock in nanoseconds since the Unix epoch, the kernel's stamps' scale (100 ns resolution).</summary>
    public static long WallNow() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
}
