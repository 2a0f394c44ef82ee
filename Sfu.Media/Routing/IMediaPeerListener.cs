using Sfu.Media.Transports;

namespace Sfu.Media.Routing;

/// <summary>What the media plane tells the control plane about a peer. Called on the media worker's thread.</summary>
public interface IMediaPeerListener
{
    /// <summary>An authenticated packet arrived from the peer on one of its transports (liveness).</summary>
    void OnMediaActivity();

    /// <summary>A transport lost every verified path (consent lapsed): a dead path, not necessarily a dead peer.</summary>
    void OnMediaPathLost(TransportDirection direction);

    /// <summary>
    /// A track this peer receives changed the layer it is forwarded at (<paramref name="layer"/>, 0 = lowest, of
    /// <paramref name="layers"/> the track has now), or was paused (<paramref name="layer"/> -1) or resumed. Reported for
    /// tracks with layers (simulcast, SVC) and pauses only.
    /// </summary>
    void OnTrackLayerChanged(string trackId, int layer, int layers, bool paused, LayerChangeReason reason)
    {
    }

    /// <summary>The peer opened a data channel on its publish transport: a data track others may receive.</summary>
    void OnDataTrackOpened(DataProducer producer)
    {
    }

    /// <summary>The peer closed that channel (or its association ended): the data track is gone.</summary>
    void OnDataTrackClosed(DataProducer producer)
    {
    }
}
