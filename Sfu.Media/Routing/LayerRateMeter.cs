namespace Sfu.Media.Routing;

/// <summary>
/// Bitrate, frame rate and liveness of one incoming RTP stream. The packet path only adds to two counters and
/// stores a timestamp; the figures are computed from them once per window on the tick, so reading them costs
/// nothing per packet. Worker thread only.
/// </summary>
internal sealed class LayerRateMeter(long timestampFrequency)
{
    // Long enough to average over a keyframe and a few frames, short enough to follow an encoder that drops a layer.
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);
    // A layer with no packet for this long is gone: the lowest simulcast layer of Chrome still sends several a second.
    private static readonly TimeSpan Silence = TimeSpan.FromSeconds(1);

    private readonly long _window = (long)(Window.TotalSeconds * timestampFrequency);
    private readonly long _silence = (long)(Silence.TotalSeconds * timestampFrequency);
    private long _bytes;
    private long _frames;
    private long _windowStart;
    private long _lastPacket;
    private bool _started;

    /// <summary>Bits per second over the last complete window (payload and headers as received).</summary>
    public long Bitrate { get; private set; }

    /// <summary>Frames per second over the last complete window, counted by RTP marker bits.</summary>
    public double FrameRate { get; private set; }

    /// <summary>A packet arrived within the last second.</summary>
    public bool IsActive { get; private set; }

    /// <summary>When the last packet arrived (timestamp units); meaningful once <see cref="HasPackets"/>.</summary>
    public long LastPacket => _lastPacket;

    public bool HasPackets => _started;

    public void OnPacket(int length, bool endOfFrame, long now)
    {
        if (!_started)
        {
            _started = true;
            _windowStart = now;
        }
        _bytes += length;
        if (endOfFrame) _frames++;
        _lastPacket = now;
        IsActive = true;
    }

    /// <summary>Closes the window when it is over, and notices a layer that stopped.</summary>
    public void OnTick(long now)
    {
        if (!_started) return;
        if (IsActive && now - _lastPacket >= _silence)
        {
            IsActive = false;
            Bitrate = 0;
            FrameRate = 0;
        }
        var elapsed = now - _windowStart;
        if (elapsed < _window) return;
        if (IsActive)
        {
            Bitrate = _bytes * 8 * timestampFrequency / elapsed;
            FrameRate = (double)_frames * timestampFrequency / elapsed;
        }
        _bytes = 0;
        _frames = 0;
        _windowStart = now;
    }
}
