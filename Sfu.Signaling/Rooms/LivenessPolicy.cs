namespace Sfu.Signaling.Rooms;

/// <summary>
/// The liveness rules in <see cref="TimeProvider"/> timestamp units, so that checks on the clock are plain
/// integer comparisons.
/// </summary>
public sealed record LivenessPolicy(TimeProvider Time, long InterruptedAfter, long OfflineAfter, long EmptyRoomClose)
{
    public static LivenessPolicy From(SignalingOptions options, TimeProvider time) => new(
        time,
        ToTimestampUnits(options.InterruptedAfterMs, time),
        ToTimestampUnits(options.OfflineAfterMs, time),
        ToTimestampUnits(options.EmptyRoomCloseMs, time));

    private static long ToTimestampUnits(int milliseconds, TimeProvider time) =>
        (long)(milliseconds * (double)time.TimestampFrequency / 1000);
}
