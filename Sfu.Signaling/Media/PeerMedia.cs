using Sfu.Media.Routing;
using Sfu.Media.Sdp;
using Sfu.Media.Transports;
using Sfu.Signaling.Rooms;

namespace Sfu.Signaling.Media;

/// <summary>
/// One peer's media state: its publish and subscribe transports (worker-owned), what it subscribes to, and
/// where its subscribe negotiation stands. Fields are changed only while the room's media gate is held.
/// </summary>
internal sealed class PeerMedia(Peer peer) : IMediaPeerListener
{
    public Peer Peer { get; } = peer;

    public PublisherMedia? Publisher { get; set; }

    public SubscriberMedia? Subscriber { get; set; }

    /// <summary>The client's ICE ufrag of its last publish offer: a new one means the client restarted ICE.</summary>
    public string? PublishRemoteUfrag { get; set; }

    public SdpOrigin? PublishOrigin { get; set; }

    /// <summary>Track ids this peer wants to receive.</summary>
    public HashSet<string> Subscriptions { get; } = new(StringComparer.Ordinal);

    /// <summary>The SSRCs the server sends each subscribed track with to this peer; stable for the session.</summary>
    public Dictionary<string, (uint Ssrc, uint RtxSsrc)> SsrcsByTrack { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, Consumer> ConsumersByTrack { get; } = new(StringComparer.Ordinal);

    public SubscribeOfferState OfferState { get; set; } = SubscribeOfferState.Empty;

    /// <summary>The offer sent and not answered yet; a new one waits for its answer (JSEP: one offer at a time).</summary>
    public SubscribeOffer? PendingOffer { get; set; }

    /// <summary>Something changed while an offer was pending: send a new one after the answer.</summary>
    public bool NeedsOffer { get; set; }

    void IMediaPeerListener.OnMediaActivity() => Peer.MarkAlive();

    void IMediaPeerListener.OnMediaPathLost(TransportDirection direction)
    {
        // A dead path is not a dead peer: the client may come back from another address (or restart ICE)
        // within the offline window. Liveness still ends the peer if nothing at all arrives for that long.
        PathsLost++;
    }

    /// <summary>How many times one of this peer's transports lost every path (for diagnostics and tests).</summary>
    public int PathsLost { get; private set; }
}
