using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Sfu.Media.Routing;
using Sfu.Media.Sdp;
using Sfu.Media.Transports;
using Sfu.Signaling.Rooms;

namespace Sfu.Signaling.MediaSessions;

/// <summary>
/// One peer's media session as signaling keeps it: what it subscribes to, the SSRCs it receives them with, and where its
/// offer/answer cycles stand. Its transports, producers and consumers belong to the room's routers on the media workers;
/// this is the listener they report to. Fields are changed only while the room's media gate is held.
/// </summary>
internal sealed partial class PeerMedia(Peer peer, ILogger logger) : IMediaPeerListener
{
    public Peer Peer { get; } = peer;

    /// <summary>The client's ICE ufrag of its last publish offer: a new one means the client restarted ICE.</summary>
    public string? PublishRemoteUfrag { get; set; }

    public SdpOrigin? PublishOrigin { get; set; }

    /// <summary>Track ids this peer wants to receive.</summary>
    public HashSet<string> Subscriptions { get; } = new(StringComparer.Ordinal);

    /// <summary>The SSRCs the server sends each subscribed track with to this peer; stable for the session.</summary>
    public Dictionary<string, (uint Ssrc, uint RtxSsrc)> SsrcsByTrack { get; } = new(StringComparer.Ordinal);

    public SubscribeOfferState OfferState { get; set; } = SubscribeOfferState.Empty;

    /// <summary>The offer sent and not answered yet; a new one waits for its answer (JSEP: one offer at a time).</summary>
    public SubscribeOffer? PendingOffer { get; set; }

    /// <summary>Something changed while an offer was pending: send a new one after the answer.</summary>
    public bool NeedsOffer { get; set; }

    /// <summary>The router (and so the worker) the peer's subscribe transport lives on, once placed.</summary>
    public Router? SubscribeRouter { get; set; }

    void IMediaPeerListener.OnMediaActivity() => Peer.MarkHeard();

    // A dead path is not a dead peer: the client may come back from another address (or restart ICE) within the
    // offline window, so the room keeps it; liveness still ends the peer if nothing at all arrives for that long.
    // The operator sees the lapse here and in sfu_media_consent_expired_total.
    void IMediaPeerListener.OnMediaPathLost(TransportDirection direction) =>
        Log.PathLost(logger, Peer.Room.Id, Peer.Id, direction);

    // On the media worker: the session queues the event, so nothing here waits for the socket.
    void IMediaPeerListener.OnTrackLayerChanged(string trackId, int layer, int layers, bool paused, LayerChangeReason reason)
    {
        var fields = new JsonObject { ["trackId"] = trackId, ["paused"] = paused, ["reason"] = reason.Label(), ["layers"] = layers };
        if (!paused) fields["layer"] = layer;
        Peer.Outbox.Emit("track-layer", fields);
    }

    // On the media worker: the room takes it from here under its gate.
    void IMediaPeerListener.OnDataTrackOpened(DataProducer producer) => Peer.Room.Media?.OnDataTrackOpened(Peer, producer);

    void IMediaPeerListener.OnDataTrackClosed(DataProducer producer) => Peer.Room.Media?.OnDataTrackClosed(Peer, producer);

    private static partial class Log
    {
        [LoggerMessage(EventId = 601, Level = LogLevel.Information,
            Message = "Peer {PeerId} in room {RoomId} lost every {Direction} media path (consent lapsed); it stays in the room")]
        public static partial void PathLost(ILogger logger, string roomId, string peerId, TransportDirection direction);
    }
}
