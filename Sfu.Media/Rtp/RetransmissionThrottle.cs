namespace Sfu.Media.Rtp;

/// <summary>
/// Decides whether a packet a subscriber reported lost may be sent again now: at most once per round trip (one NACK
/// datagram can name over a thousand packets, and a client repeats its NACKs until the packet arrives). How old a
/// packet may be is the producer's cache's business. Keyed by the consumer's history slot; no allocation after
/// construction. Worker thread only.
/// </summary>
internal sealed class RetransmissionThrottle
{
    /// <summary>The round trip assumed until one is measured: what mediasoup and libwebrtc assume too.</summary>
    public static readonly TimeSpan DefaultRoundTrip = TimeSpan.FromMilliseconds(100);

    private readonly long[] _resentAt;
    private readonly long _minInterval;

    public RetransmissionThrottle(int slots, long timestampFrequency)
    {
        _resentAt = new long[slots];
        _minInterval = (long)(DefaultRoundTrip.TotalSeconds * timestampFrequency);
    }

    /// <summary>A new packet took <paramref name="slot"/>: it has never been re-sent.</summary>
    public void OnSent(int slot) => _resentAt[slot] = long.MinValue;

    /// <summary>True, and remembered, when the packet in <paramref name="slot"/> may go again.</summary>
    public bool TryAllow(int slot, long now)
    {
        var last = _resentAt[slot];
        if (last != long.MinValue && now - last < _minInterval) return false;
        _resentAt[slot] = now;
        return true;
    }
}
