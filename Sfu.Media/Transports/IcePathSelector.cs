using System.Net;
using Sfu.Media.IceTcp;

namespace Sfu.Media.Transports;

/// <summary>What an <see cref="IcePathSelector"/> tells its transport. Called synchronously, on the caller's thread.</summary>
internal interface IIcePathListener
{
    /// <summary>A new path passed a check: datagrams from it now belong to this transport.</summary>
    void OnPathVerified(IcePath path);

    /// <summary>
    /// A path is given up (its consent lapsed, or a newer one took its place among the few kept): stop routing it, and
    /// close an ICE-TCP connection under it, since nothing else may use it.
    /// </summary>
    void OnPathDropped(IcePath path, bool consentExpired);

    /// <summary>Media now goes to <paramref name="current"/> (null: nowhere) instead of <paramref name="previous"/>.</summary>
    void OnSelectedPathChanged(IcePath? previous, IcePath? current);

    /// <summary>A rule chose <paramref name="path"/> for media, and why (the first path is <see cref="PathSwitchTrigger.Initial"/>).</summary>
    void OnPathSelected(IcePath path, PathSwitchTrigger trigger);

    /// <summary>Every path's consent lapsed while keyed: the media path is dead (the peer may still come back).</summary>
    void OnMediaPathLost();
}

/// <summary>
/// ICE-lite's path rules for one transport, on a clock: which client address (or ICE-TCP connection) has proven itself
/// with an authenticated check, which one media goes to, when that changes, and when consent lapses (RFC 7675, per
/// path). The rules:
/// <list type="bullet">
/// <item>the first verified path is selected; after every path was lost, the next one is (<c>Restored</c>);</item>
/// <item>a check from another verified path moves media there when it nominates (USE-CANDIDATE), or when the selected
/// path has been silent for the silent-path interval (<c>SilentPath</c>); so does the tick, for a path verified after the
/// selected one went quiet;</item>
/// <item>a path without an authenticated check for the consent timeout is dropped; media moves to the most recently
/// verified survivor (<c>ConsentLapsed</c>), or, with none, the loss is reported once;</item>
/// <item>at most <see cref="MaxPaths"/> paths are kept; a new one evicts the stalest that does not carry media.</item>
/// </list>
/// Knows nothing of sockets, STUN or SRTP: the transport authenticates, and tells this what happened.
/// </summary>
internal sealed class IcePathSelector(TimeProvider time, TimeSpan silentPathSwitch, TimeSpan consentTimeout, IIcePathListener listener)
{
    public const int MaxPaths = 4;

    private readonly List<IcePath> _paths = [];
    private readonly long _silentPathSwitch = silentPathSwitch.Ticks * time.TimestampFrequency / TimeSpan.TicksPerSecond;
    private readonly long _consentTimeout = consentTimeout.Ticks * time.TimestampFrequency / TimeSpan.TicksPerSecond;
    private bool _lostReported;
    private bool _hadPath;

    /// <summary>Where media goes now; null before the first check and after every path was lost.</summary>
    public IcePath? Selected { get; private set; }

    public IReadOnlyList<IcePath> Paths => _paths;

    public IcePath? Find(SocketAddress from, IceTcpConnection? tcp)
    {
        foreach (var path in _paths)
        {
            if (path.Matches(from, tcp)) return path;
        }
        return null;
    }

    /// <summary>
    /// A check from <paramref name="from"/> (on <paramref name="tcp"/>, or UDP) passed MESSAGE-INTEGRITY: the path's
    /// consent is fresh, and the rules may move media to it. Returns the path.
    /// </summary>
    public IcePath OnAuthenticatedCheck(SocketAddress from, IceTcpConnection? tcp, bool useCandidate)
    {
        var now = time.GetTimestamp();
        var path = Find(from, tcp) ?? Add(from, tcp, now);
        path.LastConsent = now;
        path.LastReceived = now;
        _lostReported = false;
        if (Selected is null) Select(path, _hadPath ? PathSwitchTrigger.Restored : PathSwitchTrigger.Initial);
        else if (!ReferenceEquals(path, Selected))
        {
            if (useCandidate) Select(path, PathSwitchTrigger.Nominated);
            else if (now - Selected.LastReceived >= _silentPathSwitch) Select(path, PathSwitchTrigger.SilentPath);
        }
        return path;
    }

    /// <summary>Something authenticated other than a check (DTLS, SRTP) arrived on <paramref name="path"/>: it is not silent.</summary>
    public void OnReceived(IcePath path) => path.LastReceived = time.GetTimestamp();

    /// <summary>
    /// Stops using a path without dropping it (no <see cref="IIcePathListener.OnPathDropped"/>): another transport's client
    /// proved it owns the address now, or its connection closed. If it carried media, the next tick moves on.
    /// </summary>
    public IcePath? Forget(SocketAddress address, IceTcpConnection? connection)
    {
        var path = Find(address, connection);
        if (path is null) return null;
        _paths.Remove(path);
        if (ReferenceEquals(path, Selected)) SetSelected(null);
        return path;
    }

    /// <summary>Forgets every path, as if the client's addresses had vanished; returns them.</summary>
    public IcePath[] ForgetAll()
    {
        var paths = _paths.ToArray();
        _paths.Clear();
        SetSelected(null);
        return paths;
    }

    /// <summary>Drops every path (the transport closes).</summary>
    public void Close()
    {
        SetSelected(null);
        foreach (var path in _paths) listener.OnPathDropped(path, consentExpired: false);
        _paths.Clear();
    }

    /// <summary>
    /// The timers: consent expiry per path, a survivor taking over, the loss reported once (only when
    /// <paramref name="keyed"/>: before DTLS finished there was no media path to lose), and the silent-path switch.
    /// </summary>
    public void OnTick(bool keyed)
    {
        var now = time.GetTimestamp();
        for (var i = _paths.Count - 1; i >= 0; i--)
        {
            var path = _paths[i];
            if (now - path.LastConsent < _consentTimeout) continue;
            _paths.RemoveAt(i);
            listener.OnPathDropped(path, consentExpired: true);
            if (ReferenceEquals(path, Selected)) SetSelected(null);
        }

        if (Selected is null)
        {
            var survivor = MostRecentlyVerified();
            if (survivor is not null) Select(survivor, PathSwitchTrigger.ConsentLapsed);
            else if (!_lostReported && keyed)
            {
                _lostReported = true;
                listener.OnMediaPathLost();
            }
            return;
        }

        // A path verified after the selected one went quiet is where the client is now.
        if (now - Selected.LastReceived >= _silentPathSwitch)
        {
            var newer = MostRecentlyVerified();
            if (newer is not null && !ReferenceEquals(newer, Selected) && newer.LastConsent > Selected.LastReceived)
                Select(newer, PathSwitchTrigger.SilentPath);
        }
    }

    private IcePath Add(SocketAddress from, IceTcpConnection? tcp, long now)
    {
        if (_paths.Count == MaxPaths)
        {
            // Forget the stalest path that is not carrying media.
            var stalest = _paths.Where(p => !ReferenceEquals(p, Selected)).MinBy(p => p.LastConsent)!;
            _paths.Remove(stalest);
            listener.OnPathDropped(stalest, consentExpired: false);
        }
        var copy = new SocketAddress(from.Family, from.Size);
        from.Buffer.Span.CopyTo(copy.Buffer.Span);
        var path = new IcePath(copy, tcp, now);
        _paths.Add(path);
        listener.OnPathVerified(path);
        return path;
    }

    private void Select(IcePath path, PathSwitchTrigger trigger)
    {
        SetSelected(path);
        if (trigger == PathSwitchTrigger.Initial) _hadPath = true;
        listener.OnPathSelected(path, trigger);
    }

    private void SetSelected(IcePath? path)
    {
        if (ReferenceEquals(path, Selected)) return;
        var previous = Selected;
        Selected = path;
        listener.OnSelectedPathChanged(previous, path);
    }

    private IcePath? MostRecentlyVerified()
    {
        IcePath? best = null;
        foreach (var path in _paths)
        {
            if (best is null || path.LastConsent > best.LastConsent) best = path;
        }
        return best;
    }
}
