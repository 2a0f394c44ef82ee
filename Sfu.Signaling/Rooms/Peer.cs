using System.Text.Json.Nodes;

namespace Sfu.Signaling.Rooms;

/// <summary>What a join token (or an anonymous join) allows a peer to do.</summary>
public readonly record struct PeerRights(bool CanPublish, bool CanSubscribe)
{
    public static PeerRights All => new(true, true);
}

/// <summary>
/// A member of a room. Owned by its <see cref="Room"/>; reaches its client through an <see cref="IPeerOutbox"/>.
/// Its liveness mark is written lock-free by every input path (signaling, and later STUN/RTP/RTCP on its
/// transports) and read by the room on the clock.
/// </summary>
public sealed class Peer
{
    private const int Active = 0;
    private const int Interrupted = 1;

    private readonly TimeProvider _time;
    private long _lastHeard;
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
    internal Media.PeerMedia? Media { get; set; }

    public bool IsInterrupted => Volatile.Read(ref _state) == Interrupted;

    /// <summary>
    /// Set once, when the room removes this peer. Requests still in flight on its socket must not act for it after that:
    /// media state created for a departed peer would never be freed.
    /// </summary>
    public bool HasLeft => Volatile.Read(ref _left);

    internal long LastHeard => Volatile.Read(ref _lastHeard);

    /// <summary>
    /// Records that something arrived from this peer, now. Cheap enough for every packet: one timestamp
    /// write, plus a room event only on the rare interrupted-to-active edge.
    /// </summary>
    public void MarkAlive()
    {
        var now = _time.GetTimestamp();
        var previous = Interlocked.Exchange(ref _lastHeard, now);
        if (Volatile.Read(ref _state) == Interrupted) Room.OnPeerActivity(this, _time.GetElapsedTime(previous, now));
    }

    /// <summary>Marks the peer as removed from its room. Called under the room's lock.</summary>
    internal void MarkLeft() => Volatile.Write(ref _left, true);

    /// <summary>Flips the interrupted flag; true when this call changed it. Called under the room's lock.</summary>
    internal bool TrySetInterrupted(bool interrupted) =>
        interrupted
            ? Interlocked.CompareExchange(ref _state, Interrupted, Active) == Active
            : Interlocked.CompareExchange(ref _state, Active, Interrupted) == Interrupted;

    /// <summary>The <c>Peer</c> object of the protocol.</summary>
    public JsonObject Describe() => new()
    {
        ["peerId"] = Id,
        ["name"] = Name,
        ["tracks"] = new JsonArray([.. Tracks.Select(t => (JsonNode)t.Describe())]),
    };
}
