using System.Text.Json.Nodes;

namespace Sfu.Signaling.Rooms;

/// <summary>What a join token (or an anonymous join) allows a peer to do.</summary>
public readonly record struct PeerRights(bool CanPublish, bool CanSubscribe)
{
    public static PeerRights All => new(true, true);
}

/// <summary>
/// A member of a room. Owned by its <see cref="Room"/>; reaches its client through an <see cref="IPeerOutbox"/>.
/// Its liveness mark is written lock-free by every input path (signaling messages, and STUN/DTLS/RTP/RTCP on its
/// transports) and read by the room on the clock.
/// </summary>
public sealed class Peer
{
    private const int Active = 0;
    private const int Interrupted = 1;

    private readonly TimeProvider _time;
    private long _lastHeard;
    // When the current silence began (the last time heard before the peer became interrupted), and when media first
    // broke it; 0 for "not yet". Together they give the outage the room reports when the sweep turns the peer active.
    private long _silentSince;
    private long _heardAgainAt;
    private int _state;
    private bool _left;

    internal Peer(string id, string name, string? identity, PeerRights rights, bool autoSubscribe, IPeerOutbox outbox, TimeProvider time)
    {
        Id = id;
        Name = name;
        Identity = identity;
        Rights = rights;
        AutoSubscribe = autoSubscribe;
        Outbox = outbox;
        _time = time;
        _lastHeard = time.GetTimestamp();
    }

    public string Id { get; }

    public string Name { get; }

    /// <summary>The token's subject; a second join with the same identity replaces this peer. Null when anonymous.</summary>
    public string? Identity { get; }

    public PeerRights Rights { get; }

    public bool AutoSubscribe { get; }

    public IPeerOutbox Outbox { get; }

    /// <summary>The room this peer belongs to; set when it is admitted.</summary>
    public Room Room { get; internal set; } = null!;

    /// <summary>The peer's published tracks; changed by its room, under the room's lock.</summary>
    internal List<TrackInfo> Tracks { get; } = [];

    /// <summary>The peer's transports, producers and consumers, once it used media; guarded by the room's media gate.</summary>
    internal MediaSessions.PeerMedia? Media { get; set; }

    public bool IsInterrupted => Volatile.Read(ref _state) == Interrupted;

    /// <summary>
    /// Set once, when the room removes this peer. Requests still in flight on its socket must not act for it after that:
    /// media state created for a departed peer would never be freed.
    /// </summary>
    public bool HasLeft => Volatile.Read(ref _left);

    internal long LastHeard => Volatile.Read(ref _lastHeard);

    /// <summary>
    /// Something arrived on the signaling socket, now. Runs on a signaling thread, so the interrupted-to-active edge
    /// is applied at once: the room tells the others before it handles the message.
    /// </summary>
    public void MarkAlive()
    {
        var now = _time.GetTimestamp();
        var previous = Interlocked.Exchange(ref _lastHeard, now);
        if (Volatile.Read(ref _state) == Interrupted) Room.OnPeerActivity(this, _time.GetElapsedTime(previous, now));
    }

    /// <summary>
    /// Media arrived from this peer, now (called on the media worker for every authenticated packet). Only stamps the
    /// time: no lock, no room code, no JSON on the media thread. When the peer was interrupted, the first packet also
    /// asks the liveness clock for a sweep (from the thread pool), and the sweep turns the peer active.
    /// </summary>
    public void MarkHeard()
    {
        var now = _time.GetTimestamp();
        Volatile.Write(ref _lastHeard, now);
        if (Volatile.Read(ref _state) != Interrupted || Interlocked.CompareExchange(ref _heardAgainAt, now, 0) != 0) return;
        ThreadPool.UnsafeQueueUserWorkItem(static peer => peer.Room.OnPeerHeardAgain(), this, preferLocal: false);
    }

    /// <summary>How long the peer was silent, if media broke its interruption; for the sweep, under the room's lock.</summary>
    internal TimeSpan? OutageEndedByMedia
    {
        get
        {
            var back = Volatile.Read(ref _heardAgainAt);
            return back == 0 ? null : _time.GetElapsedTime(Volatile.Read(ref _silentSince), back);
        }
    }

    /// <summary>Marks the peer as removed from its room. Called under the room's lock.</summary>
    internal void MarkLeft() => Volatile.Write(ref _left, true);

    /// <summary>Flips the interrupted flag; true when this call changed it. Called under the room's lock.</summary>
    internal bool TrySetInterrupted(bool interrupted)
    {
        if (!interrupted) return Interlocked.CompareExchange(ref _state, Active, Interrupted) == Interrupted;
        // Reset before the flag flips, so media arriving from now on finds both ready for the next edge.
        Volatile.Write(ref _silentSince, LastHeard);
        Volatile.Write(ref _heardAgainAt, 0);
        return Interlocked.CompareExchange(ref _state, Interrupted, Active) == Active;
    }

    /// <summary>The <c>Peer</c> object of the protocol.</summary>
    public JsonObject Describe() => new()
    {
        ["peerId"] = Id,
        ["name"] = Name,
        ["tracks"] = new JsonArray([.. Tracks.Select(t => (JsonNode)t.Describe())]),
    };
}
