using System.Text.Json.Nodes;
using Sfu.Signaling.Protocol;

namespace Sfu.Signaling.Rooms;

/// <summary>Told by a room when its membership changes, so owners can keep their books (metrics, registries, clock).</summary>
public interface IRoomListener
{
    void OnPeerAdmitted(Room room, Peer peer);

    void OnPeerRemoved(Room room, Peer peer, PeerLeftReason reason);

    /// <summary>An interrupted peer was heard again after <paramref name="outage"/> of silence.</summary>
    void OnPeerRecovered(Room room, Peer peer, TimeSpan outage);

    /// <summary>The room's next liveness deadline may now be earlier than the one the clock waits for.</summary>
    void OnDeadlineChanged(long deadline);
}

/// <summary>
/// The peers of one room and the events between them. Every change happens under the room's lock, and
/// events are queued to sessions inside it, so every peer sees the room's changes in the same order.
/// </summary>
public sealed class Room
{
    private readonly object _gate = new();
    private readonly List<Peer> _peers = [];
    private readonly LivenessPolicy _policy;
    private readonly IRoomListener _listener;
    private readonly int _maxPeers;
    private long _emptySince;
    private bool _closed;

    internal Room(string id, int maxPeers, LivenessPolicy policy, IRoomListener listener)
    {
        Id = id;
        _maxPeers = maxPeers;
        _policy = policy;
        _listener = listener;
        _emptySince = policy.Time.GetTimestamp();
    }

    public string Id { get; }

    public IReadOnlyList<Peer> Peers
    {
        get { lock (_gate) return [.. _peers]; }
    }

    public bool IsClosed
    {
        get { lock (_gate) return _closed; }
    }

    /// <summary>
    /// Adds <paramref name="peer"/>, replacing a peer with the same identity. <paramref name="onAdmitted"/> runs
    /// under the lock with the peers already present, so the join response is the first message of the new
    /// session and no room event can overtake it. False when the room closed meanwhile (join a new one).
    /// </summary>
    internal bool TryAdmit(Peer peer, Action<IReadOnlyList<Peer>> onAdmitted)
    {
        lock (_gate)
        {
            if (_closed) return false;
            var replaced = peer.Identity is null ? null : _peers.Find(p => p.Identity == peer.Identity);
            if (replaced is null && _peers.Count >= _maxPeers)
                throw new ProtocolException(ErrorCode.RoomFull, $"room '{Id}' is full ({_maxPeers} peers)");
            if (replaced is not null) RemoveLocked(replaced, PeerLeftReason.Replaced);

            peer.Room = this;
            onAdmitted([.. _peers]);
            var joined = new JsonObject { ["peer"] = peer.Describe() };
            foreach (var other in _peers) other.Outbox.Emit("peer-joined", joined);
            _peers.Add(peer);
            _emptySince = long.MaxValue;
        }
        _listener.OnPeerAdmitted(this, peer);
        _listener.OnDeadlineChanged(peer.LastHeard + _policy.InterruptedAfter);
        Media?.OnPeerJoined(peer);
        return true;
    }

    /// <summary>Removes a peer for <paramref name="reason"/>; false if it was no longer here.</summary>
    public bool Remove(Peer peer, PeerLeftReason reason)
    {
        bool removed;
        lock (_gate) removed = RemoveLocked(peer, reason);
        return removed;
    }

    /// <summary>The room's media (producers, negotiation); null when the server runs without a media plane.</summary>
    public MediaSessions.RoomMedia? Media { get; internal set; }

    /// <summary>Adds and removes a peer's tracks and tells the others (<c>track-published</c> / <c>track-unpublished</c>).</summary>
    internal void UpdateTracks(Peer publisher, IReadOnlyList<TrackInfo> added, IReadOnlyList<string> removed)
    {
        lock (_gate)
        {
            if (!_peers.Contains(publisher)) return;
            foreach (var trackId in removed)
            {
                if (publisher.Tracks.RemoveAll(t => t.TrackId == trackId) > 0)
                    BroadcastLocked(publisher, "track-unpublished", new JsonObject { ["peerId"] = publisher.Id, ["trackId"] = trackId });
            }
            foreach (var track in added)
            {
                publisher.Tracks.Add(track);
                BroadcastLocked(publisher, "track-published", new JsonObject { ["peerId"] = publisher.Id, ["track"] = track.Describe() });
            }
        }
    }

    /// <summary>The member that publishes <paramref name="trackId"/>; null when none does. The room is the one record of tracks.</summary>
    internal Peer? FindPublisher(string trackId)
    {
        lock (_gate) return _peers.Find(p => p.Tracks.Exists(t => t.TrackId == trackId));
    }

    /// <summary>The tracks <paramref name="publisher"/> publishes (for a peer that left, those it published when it left).</summary>
    internal List<TrackInfo> TracksOf(Peer publisher)
    {
        lock (_gate) return [.. publisher.Tracks];
    }

    /// <summary>Every track published by members other than <paramref name="except"/>.</summary>
    internal List<TrackInfo> TracksExcept(Peer except)
    {
        lock (_gate) return [.. _peers.Where(p => p != except).SelectMany(p => p.Tracks)];
    }

    /// <summary>
    /// A peer comes back (<c>resume</c>): marks it alive, unless its silence has already reached the offline rule, in
    /// which case it is removed now (<c>timeout</c>) whether or not the sweep got to it yet. Under the room's lock, so
    /// that a sweep can never remove a peer whose resume was admitted, nor a resume admit one the sweep is removing.
    /// </summary>
    internal bool TryKeepAlive(Peer peer)
    {
        lock (_gate)
        {
            if (!_peers.Contains(peer)) return false;
            if (_policy.Time.GetTimestamp() - peer.LastHeard >= _policy.OfflineAfter)
            {
                RemoveLocked(peer, PeerLeftReason.Timeout);
                return false;
            }
            // The lock is re-entrant: MarkAlive's interrupted-to-active edge takes it again.
            peer.MarkAlive();
            return true;
        }
    }

    /// <summary>Data arrived from an interrupted peer: tell the others it is back.</summary>
    internal void OnPeerActivity(Peer peer, TimeSpan outage)
    {
        lock (_gate)
        {
            if (!_peers.Contains(peer) || !peer.TrySetInterrupted(false)) return;
            BroadcastLocked(peer, "peer-state", new JsonObject { ["peerId"] = peer.Id, ["state"] = "active" });
        }
        _listener.OnPeerRecovered(this, peer, outage);
        _listener.OnDeadlineChanged(peer.LastHeard + _policy.InterruptedAfter);
    }

    /// <summary>Media broke an interrupted peer's silence (on the thread pool, never the media worker): sweep now.</summary>
    internal void OnPeerHeardAgain() => _listener.OnDeadlineChanged(_policy.Time.GetTimestamp());

    /// <summary>
    /// Applies the liveness rules at <paramref name="now"/>: interrupted after a short silence, removed with
    /// <c>timeout</c> after a long one, active again once media was heard from an interrupted peer. Returns the next
    /// timestamp at which this room needs looking at.
    /// </summary>
    internal long CheckLiveness(long now)
    {
        List<(Peer Peer, TimeSpan Outage)>? recovered = null;
        var next = CheckLivenessLocked(now, ref recovered);
        if (recovered is null) return next;
        foreach (var (peer, outage) in recovered)
        {
            _listener.OnPeerRecovered(this, peer, outage);
            next = Math.Min(next, peer.LastHeard + _policy.InterruptedAfter);
        }
        return next;
    }

    private long CheckLivenessLocked(long now, ref List<(Peer Peer, TimeSpan Outage)>? recovered)
    {
        lock (_gate)
        {
            if (_closed) return long.MaxValue;
            var next = _peers.Count == 0 ? _emptySince + _policy.EmptyRoomClose : long.MaxValue;
            for (var i = _peers.Count - 1; i >= 0; i--)
            {
                var peer = _peers[i];
                var lastHeard = peer.LastHeard;
                var silence = now - lastHeard;
                if (silence >= _policy.OfflineAfter)
                {
                    RemoveLocked(peer, PeerLeftReason.Timeout);
                    next = Math.Min(next, _peers.Count == 0 ? _emptySince + _policy.EmptyRoomClose : long.MaxValue);
                    continue;
                }
                if (silence >= _policy.InterruptedAfter)
                {
                    if (peer.TrySetInterrupted(true))
                        BroadcastLocked(peer, "peer-state", new JsonObject { ["peerId"] = peer.Id, ["state"] = "interrupted" });
                    next = Math.Min(next, lastHeard + _policy.OfflineAfter);
                }
                else
                {
                    if (peer.OutageEndedByMedia is { } outage && peer.TrySetInterrupted(false))
                    {
                        BroadcastLocked(peer, "peer-state", new JsonObject { ["peerId"] = peer.Id, ["state"] = "active" });
                        (recovered ??= []).Add((peer, outage));
                    }
                    next = Math.Min(next, lastHeard + _policy.InterruptedAfter);
                }
            }
            return next;
        }
    }

    /// <summary>Closes the room if it has been empty long enough; true when it did.</summary>
    internal bool TryCloseIfAbandoned(long now)
    {
        lock (_gate)
        {
            if (_closed || _peers.Count > 0 || now - _emptySince < _policy.EmptyRoomClose) return false;
            _closed = true;
            return true;
        }
    }

    /// <summary>Closes the room now (operator request): every peer gets <c>room-closed</c> and is disconnected with 4011.</summary>
    internal bool Close(string reason)
    {
        lock (_gate)
        {
            if (_closed) return false;
            _closed = true;
            var peers = _peers.ToArray();
            _peers.Clear();
            foreach (var peer in peers)
            {
                peer.MarkLeft();
                Media?.OnPeerRemoved(peer);
                peer.Outbox.Emit("room-closed", new JsonObject { ["reason"] = reason });
                peer.Outbox.End(CloseCodes.RoomClosed, "room closed");
                _listener.OnPeerRemoved(this, peer, PeerLeftReason.RoomClosed);
            }
            return true;
        }
    }

    private bool RemoveLocked(Peer peer, PeerLeftReason reason)
    {
        if (!_peers.Remove(peer)) return false;
        peer.MarkLeft();
        foreach (var track in peer.Tracks)
            BroadcastLocked(peer, "track-unpublished", new JsonObject { ["peerId"] = peer.Id, ["trackId"] = track.TrackId });
        BroadcastLocked(peer, "peer-left", new JsonObject { ["peerId"] = peer.Id, ["reason"] = reason.ToWire() });
        switch (reason)
        {
            case PeerLeftReason.Leave:
                peer.Outbox.End(CloseCodes.Normal, "left");
                break;
            case PeerLeftReason.Timeout:
                peer.Outbox.End(CloseCodes.SessionExpired, "offline too long");
                break;
            case PeerLeftReason.Kicked:
            case PeerLeftReason.Replaced:
                peer.Outbox.Emit("kicked", new JsonObject { ["reason"] = reason == PeerLeftReason.Replaced ? "replaced" : "kicked" });
                peer.Outbox.End(CloseCodes.Kicked, reason.ToWire());
                break;
        }
        Media?.OnPeerRemoved(peer);
        if (_peers.Count == 0)
        {
            _emptySince = _policy.Time.GetTimestamp();
            _listener.OnDeadlineChanged(_emptySince + _policy.EmptyRoomClose);
        }
        _listener.OnPeerRemoved(this, peer, reason);
        return true;
    }

    // One message object serves every recipient: sessions serialize it at once, under this lock, and never keep it.
    private void BroadcastLocked(Peer about, string eventName, JsonObject fields)
    {
        foreach (var other in _peers)
        {
            if (!ReferenceEquals(other, about)) other.Outbox.Emit(eventName, fields);
        }
    }
}
