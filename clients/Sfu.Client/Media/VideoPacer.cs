namespace Sfu.Client.Media;

/// <summary>
/// Spreads a publisher's video packets over time as libwebrtc's pacer does, so that a frame does not leave as one
/// burst: a leaky bucket drained at a multiple of the target bitrate (libwebrtc paces at 2.5 times it, so a frame
/// leaves within about 40 % of its frame interval). A packet may go when the bucket empties within
/// <see cref="BurstWindow"/> (libwebrtc's pacer sleeps at least a millisecond and sends whatever fell due by then), so
/// bursts are small, never whole frames. The bucket drains while a frame's packets wait, so a sender that wakes late
/// sends what fell due meanwhile and the frame still ends on schedule; idle time between frames earns no credit
/// (<see cref="FrameStarted"/>: the bucket never goes below empty, as libwebrtc's media debt never goes below zero).
/// Times are timestamps of any clock whose ticks per second are given. One sender thread.
/// </summary>
public sealed class VideoPacer
{
    /// <summary>libwebrtc's default pacing rate, as a multiple of the target bitrate.</summary>
    public const double LibWebRtcPacingFactor = 2.5;

    /// <summary>How far ahead of its due time a packet may go: libwebrtc's shortest pacer sleep.</summary>
    public static readonly TimeSpan BurstWindow = TimeSpan.FromMilliseconds(1);

    private readonly long _bitsPerSecond;
    private readonly long _frequency;
    private readonly long _burstWindow;
    private long _emptyAt;

    /// <param name="pacingBitsPerSecond">The pacing rate: the target bitrate times the pacing factor.</param>
    /// <param name="frequency">Ticks per second of the timestamps given to <see cref="CanSend"/> and <see cref="FrameStarted"/>.</param>
    public VideoPacer(long pacingBitsPerSecond, long frequency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pacingBitsPerSecond, 1);
        _bitsPerSecond = pacingBitsPerSecond;
        _frequency = frequency;
        _burstWindow = (long)((Int128)frequency * BurstWindow.Ticks / TimeSpan.TicksPerSecond);
    }

    /// <summary>Whether a packet may go at <paramref name="now"/>.</summary>
    public bool CanSend(long now) => _emptyAt - now <= _burstWindow;

    /// <summary>A frame's packets are waiting from <paramref name="now"/>: an empty bucket starts draining them now.</summary>
    public void FrameStarted(long now) => _emptyAt = Math.Max(_emptyAt, now);

    /// <summary>A packet of <paramref name="bytes"/> went.</summary>
    public void OnSent(int bytes) => _emptyAt += (long)((Int128)bytes * 8 * _frequency / _bitsPerSecond);
}
