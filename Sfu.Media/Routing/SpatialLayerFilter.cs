using Sfu.Media.Rtp;

namespace Sfu.Media.Routing;

/// <summary>What a consumer of a VP9 SVC stream does with one packet.</summary>
internal enum SpatialDecision : byte
{
    /// <summary>A spatial or temporal layer above what this subscriber gets: left out, without a gap in its numbering.</summary>
    Drop,

    Forward,

    /// <summary>Forwarded as the last packet of the subscriber's picture: it carries the RTP marker.</summary>
    ForwardEndOfPicture,
}

/// <summary>
/// Which spatial and temporal layers of one VP9 SVC stream a consumer forwards. Each picture of such a stream is a
/// layer frame per spatial layer, lowest first, each predicted from the one below it (and, except at keyframes,
/// from the same layer's earlier pictures). So a subscriber can move down at any picture start (no layer ever
/// refers to a higher one) but up only at a keyframe, where every layer starts afresh: its consumer asks for one.
/// The picture a subscriber decodes ends with its top layer's last packet, which must carry the RTP marker, as the
/// publisher's top layer does. Worker thread only.
/// </summary>
internal sealed class SpatialLayerFilter
{
    public const int None = -1;

    /// <summary>The highest spatial layer wanted.</summary>
    public int Target { get; private set; } = SpatialLayers.MaxCount - 1;

    /// <summary>The highest spatial layer being forwarded, or <see cref="None"/> before the first keyframe.</summary>
    public int Current { get; private set; } = None;

    // The RTP timestamp of the newest picture started: a late packet (a retransmission, or reordered) that starts an
    // older picture must not move the layers, since the packets after it in the stream were decided already.
    private uint _pictureTimestamp;
    private bool _started;

    /// <summary>Sets the highest layer wanted. True when that is above what is forwarded: a keyframe must be asked for.</summary>
    public bool SetTarget(int spatialId)
    {
        Target = spatialId;
        return Current != None && spatialId > Current;
    }

    /// <summary>The stream (re)starts at a keyframe, perhaps on another timestamp base: no picture before it counts.</summary>
    public void Restart() => _started = false;

    /// <param name="descriptor">The packet's payload descriptor.</param>
    /// <param name="timestamp">The packet's RTP timestamp (the picture's).</param>
    /// <param name="sourceMarker">The publisher's marker: the end of its whole picture.</param>
    /// <param name="maxTemporalId">The subscriber's temporal cap, or null for every temporal layer.</param>
    public SpatialDecision Decide(in Vp9PayloadDescriptor descriptor, uint timestamp, bool sourceMarker, int? maxTemporalId)
    {
        if (descriptor.StartOfPicture && (!_started || (int)(timestamp - _pictureTimestamp) > 0))
        {
            _started = true;
            _pictureTimestamp = timestamp;
            // A keyframe: every layer up to the target can start here. Otherwise only a move down can happen now.
            if (descriptor.StartOfKeyframe) Current = Target;
            else if (Target < Current) Current = Target;
        }
        if (Current == None || descriptor.SpatialId > Current || descriptor.TemporalId > maxTemporalId) return SpatialDecision.Drop;
        // The publisher's marker is enough when its picture has no layer as high as this subscriber's (it sends fewer).
        return descriptor.EndOfLayerFrame && (descriptor.SpatialId == Current || sourceMarker)
            ? SpatialDecision.ForwardEndOfPicture
            : SpatialDecision.Forward;
    }
}
