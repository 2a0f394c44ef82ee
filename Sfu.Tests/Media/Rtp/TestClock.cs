namespace Sfu.Tests.Media;

/// <summary>A <see cref="TimeProvider"/> that moves only when a test says so.</summary>
internal sealed class TestClock : TimeProvider
{
    private long _ticks;
    private DateTimeOffset _utcNow = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _ticks;

    public override DateTimeOffset GetUtcNow() => _utcNow;

    public void Advance(TimeSpan by)
    {
        _ticks += by.Ticks;
        _utcNow += by;
    }
}
