using Sfu.Media.Rtp;

namespace Sfu.Media.Routing;

/// <summary>
/// One RTP stream of a producer: a simulcast layer, or the only stream of a plain track. Each has its own
/// SSRC (signalled, or learned from the rid header extension), its own retransmission cache, keyframe request
/// throttle, reception statistics and (when the publisher negotiated NACK) loss repair, because the publisher encodes
/// and sends each layer separately.
/// Worker thread only.
/// </summary>
public sealed class ProducerLayer : IDisposable
{
    internal ProducerLayer(int index, string? rid, bool isVideo, IUplinkRepairHost? nackHost, TimeProvider time, TimeSpan keyframeInterval)
    {
        Index = index;
        Rid = rid;
        Meter = new LayerRateMeter(time.TimestampFrequency);
        if (isVideo)
        {
            Cache = new RtpPacketCache();
            Keyframes = new KeyframeRequestThrottle(time, keyframeInterval);
            if (nackHost is not null) Repair = new LayerRepair(nackHost, time);
        }
    }

    /// <summary>The spatial rank: 0 is the lowest (smallest) layer, in the order the publisher declared them.</summary>
    public int Index { get; }

    /// <summary>The RTP stream id of a rid-based simulcast layer; null for SSRC-signalled streams.</summary>
    public string? Rid { get; }

    /// <summary>The media SSRC, signalled in SDP or learned from the first packet (by mid or rid).</summary>
    public uint? Ssrc { get; internal set; }

    /// <summary>The SSRC of this layer's RTX (repair) stream, from an ssrc-group:FID or the repaired-rid extension.</summary>
    public uint? RtxSsrc { get; internal set; }

    /// <summary>Picture size of the last keyframe, where the payload tells it (VP8); 0 when unknown.</summary>
    public int Width { get; internal set; }

    public int Height { get; internal set; }

    public long Bitrate => Meter.Bitrate;

    public double FrameRate => Meter.FrameRate;

    /// <summary>Packets of this layer are arriving (one within the last second).</summary>
    public bool IsActive => Meter.IsActive;

    /// <summary>The publisher's last sender report for this layer: (NTP time, RTP time), to translate for subscribers.</summary>
    internal (ulong Ntp, uint Rtp)? LastSenderReport { get; set; }

    internal LayerRateMeter Meter { get; }

    internal RtpPacketCache? Cache { get; }

    internal KeyframeRequestThrottle? Keyframes { get; }

    /// <summary>NACKs the publisher for this layer's lost packets; null unless video with NACK negotiated.</summary>
    internal LayerRepair? Repair { get; }

    internal ReceptionStatistics Reception { get; } = new();

    public void Dispose() => Cache?.Dispose();
}
