namespace Sfu.Media.Srtp;

/// <summary>
/// A sliding window of the last <see cref="Size"/> accepted indices (RFC 3711 section 3.3.2).
/// Check before authenticating, accept only after: a forged packet must not move the window.
/// </summary>
internal struct ReplayWindow
{
    /// <summary>128 like libsrtp's default: video bursts reorder more than 64 packets apart.</summary>
    public const int Size = 128;

    private UInt128 _seen; // bit n set: index (Highest - n) was accepted
    private bool _started;

    public ulong Highest { get; private set; }

    public readonly bool Started => _started;

    public readonly SrtpStatus Check(ulong index)
    {
        if (!_started || index > Highest)
        {
            return SrtpStatus.Ok;
        }

        ulong behind = Highest - index;
        if (behind >= Size)
        {
            return SrtpStatus.ReplayOld;
        }

        return (_seen & (UInt128.One << (int)behind)) != UInt128.Zero ? SrtpStatus.ReplayDuplicate : SrtpStatus.Ok;
    }

    public void Accept(ulong index)
    {
        if (!_started)
        {
            _started = true;
            Highest = index;
            _seen = UInt128.One;
        }
        else if (index > Highest)
        {
            ulong ahead = index - Highest;
            _seen = ahead >= Size ? UInt128.One : (_seen << (int)ahead) | UInt128.One;
            Highest = index;
        }
        else
        {
            _seen |= UInt128.One << (int)(Highest - index);
        }
    }
}
