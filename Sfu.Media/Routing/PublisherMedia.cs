using Sfu.Media.Congestion;
using Sfu.Media.DataChannels;
using Sfu.Media.Diagnostics;
using Sfu.Media.Dtls;
using Sfu.Media.Rtcp;
using Sfu.Media.Rtp;
using Sfu.Media.Sdp;
using Sfu.Media.Transports;
using Sfu.Media.Worker;

namespace Sfu.Media.Routing;

/// <summary>
/// A peer's publish transport and the producers it feeds. Routes each incoming RTP packet to its producer's
/// layer by SSRC, learning unsignalled SSRCs from the mid and, for simulcast, rid header extensions (and RTX
/// SSRCs from repaired-rid), or taking them from the SDP's ssrc-groups (SIM for the layers, FID for their RTX).
/// A layer's RTX packets are restored to the originals and handed to its producer as retransmissions.
/// Owned by its room's <see cref="Router"/>; owns its transport and producers. Worker thread only.
/// </summary>
public sealed class PublisherMedia : ITransportListener, IDataChannelListener, IUplinkRepairHost, IDisposable
{
    private readonly Dictionary<ushort, DataProducer> _dataProducers = [];
    private readonly IMediaPeerListener _peer;
    private readonly Dictionary<uint, (Producer Producer, ProducerLayer Layer)> _bySsrc = [];
    // RTX (repair) streams by their SSRC, and the layer each repairs.
    private readonly Dictionary<uint, (Producer Producer, ProducerLayer Layer)> _repairs = [];
    // RTX streams of unknown layers and layers the answer did not accept: known, so not counted as unknown, but not forwarded.
    private readonly HashSet<uint> _notForwarded = [];
    private readonly List<Producer> _producers = [];
    private readonly uint _rtcpSsrc = (uint)Random.Shared.NextInt64(1, uint.MaxValue);

    internal PublisherMedia(ITransportHost host, DtlsContext dtlsContext, string id, IMediaPeerListener peer)
    {
        Host = host;
        _peer = peer;
        Transport = new WebRtcTransport(host, id, TransportDirection.Publish, dtlsContext, this);
        Feedback = new PublisherFeedback(host, Transport, _rtcpSsrc, _producers);
    }

    public WebRtcTransport Transport { get; }

    public IReadOnlyList<Producer> Producers => _producers;

    /// <summary>The data tracks: channels the client opened on this transport and has not closed.</summary>
    public IEnumerable<DataProducer> DataProducers => _dataProducers.Values;

    /// <summary>Congestion feedback (transport-cc, REMB) sent to the publisher.</summary>
    public PublisherFeedback Feedback { get; }

    internal IMediaHost Host { get; }

    IMediaHost IProducerHost.Host => Host;

    /// <summary>Through <see cref="Router.Publish"/>, which records the track.</summary>
    internal Producer AddProducer(string id, PublishedTrack track)
    {
        var producer = new Producer(id, track, this, Host.Time);
        _producers.Add(producer);
        Feedback.OnTrackAdded(track);
        // With rids the SDP's SSRC order says nothing about which layer is which: the rid extension will tell.
        var byRid = track.Rids.Count > 1;
        for (var i = 0; i < track.Streams.Count; i++)
        {
            var stream = track.Streams[i];
            if (byRid)
            {
                if (stream.RtxSsrc is { } unplaced) _notForwarded.Add(unplaced);
                continue;
            }
            var layer = producer.Layers[i];
            layer.Ssrc = stream.Ssrc;
            layer.RtxSsrc = stream.RtxSsrc;
            _bySsrc[stream.Ssrc] = (producer, layer);
            if (stream.RtxSsrc is { } rtx) _repairs[rtx] = (producer, layer);
        }
        return producer;
    }

    /// <summary>Through <see cref="Router.Unpublish"/>; false when the producer is not this transport's.</summary>
    internal bool RemoveProducer(Producer producer)
    {
        if (!_producers.Remove(producer)) return false;
        foreach (var (ssrc, owner) in _bySsrc.ToArray())
        {
            if (ReferenceEquals(owner.Producer, producer)) _bySsrc.Remove(ssrc);
        }
        foreach (var (ssrc, owner) in _repairs.ToArray())
        {
            if (ReferenceEquals(owner.Producer, producer)) _repairs.Remove(ssrc);
        }
        producer.Dispose();
        return true;
    }

    /// <summary>One of the data tracks by id; null when no open channel has it.</summary>
    internal DataProducer? FindDataProducer(string trackId)
    {
        foreach (var producer in _dataProducers.Values)
        {
            if (producer.Id == trackId) return producer;
        }
        return null;
    }

    void ITransportListener.OnRtp(WebRtcTransport transport, Span<byte> packet)
    {
        if (!RtpPacket.TryParse(packet, out var rtp))
        {
            Host.Metrics.Dropped(DropReason.Malformed);
            return;
        }
        var now = Host.ArrivalTime;
        Feedback.OnRtp(rtp, now);
        if (!Dispatch(rtp, now) && !(TryLearn(rtp) && Dispatch(rtp, now)) && !_notForwarded.Contains(rtp.Ssrc))
            Host.Metrics.Dropped(DropReason.UnknownStream);
    }

    /// <summary>Hands a packet of a known stream to its layer: media as it is, RTX as a retransmission. False for an unknown SSRC.</summary>
    private bool Dispatch(RtpPacket rtp, long now)
    {
        if (_bySsrc.TryGetValue(rtp.Ssrc, out var route)) route.Producer.ReceiveRtp(route.Layer, rtp, now);
        else if (_repairs.TryGetValue(rtp.Ssrc, out route)) ReceiveRetransmission(route.Producer, route.Layer, rtp, now);
        else return false;
        return true;
    }

    /// <summary>An RTX packet of a layer: restored to the original and forwarded if it fills a gap the layer NACKed.</summary>
    private void ReceiveRetransmission(Producer producer, ProducerLayer layer, RtpPacket rtx, long now)
    {
        var codec = producer.Track.Codec;
        if (rtx.PayloadType != codec.RtxPayloadType)
        {
            Host.Metrics.Dropped(DropReason.UnknownStream);
            return;
        }
        if (layer.Repair is null || layer.Ssrc is not { } ssrc)
        {
            Host.Metrics.Dropped(DropReason.UnrequestedRetransmission);
            return;
        }
        if (!RtxPacket.TryRestore(rtx, codec.PayloadType, ssrc, out var original))
        {
            // Padding alone is the publisher probing its bandwidth: expected, and nothing to forward.
            if (!rtx.Payload.IsEmpty) Host.Metrics.Dropped(DropReason.Malformed);
            return;
        }
        producer.ReceiveRtp(layer, original, now, repaired: true);
    }

    /// <summary>
    /// Maps an unsignalled SSRC to the producer whose mid it carries, and to the layer its rid (or, for RTX, its
    /// repaired-rid) names. False when it maps to nothing forwarded.
    /// </summary>
    private bool TryLearn(RtpPacket rtp)
    {
        if (_notForwarded.Contains(rtp.Ssrc)) return false;
        foreach (var candidate in _producers)
        {
            var ids = candidate.Track.Extensions;
            if (ids.Mid is not { } midId || !rtp.TryGetExtension(midId, out var mid) || !AsciiEquals(mid, candidate.Track.Mid)) continue;
            // A repair stream names its layer by repaired-rid; without simulcast its payload type is enough.
            Span<byte> repaired = default;
            var repairs = ids.RepairedRtpStreamId is { } repairedId && rtp.TryGetExtension(repairedId, out repaired);
            if (repairs || (rtp.PayloadType == candidate.Track.Codec.RtxPayloadType && candidate.Layers.Count == 1))
            {
                var repairedLayer = repairs ? FindLayer(candidate, repaired) : candidate.Layers[0];
                if (repairedLayer is null)
                {
                    _notForwarded.Add(rtp.Ssrc);
                    return false;
                }
                if (repairedLayer.RtxSsrc is { } previousRtx) _repairs.Remove(previousRtx);
                repairedLayer.RtxSsrc = rtp.Ssrc;
                _repairs[rtp.Ssrc] = (candidate, repairedLayer);
                return true;
            }
            ProducerLayer? layer;
            if (candidate.Layers.Count > 1)
            {
                if (ids.RtpStreamId is not { } ridId || !rtp.TryGetExtension(ridId, out var rid)) return false;
                layer = FindLayer(candidate, rid);
                if (layer is null)
                {
                    _notForwarded.Add(rtp.Ssrc);
                    return false;
                }
            }
            else layer = candidate.Layers[0];
            // The publisher may restart a layer with a new SSRC (a new encoder after renegotiation).
            if (layer.Ssrc is { } previous) _bySsrc.Remove(previous);
            layer.Ssrc = rtp.Ssrc;
            _bySsrc[rtp.Ssrc] = (candidate, layer);
            return true;
        }
        return false;
    }

    private static ProducerLayer? FindLayer(Producer producer, ReadOnlySpan<byte> rid)
    {
        foreach (var layer in producer.Layers)
        {
            if (layer.Rid is { } id && AsciiEquals(rid, id)) return layer;
        }
        return null;
    }

    void ITransportListener.OnRtcp(WebRtcTransport transport, ReadOnlySpan<byte> compound)
    {
        var reader = new RtcpCompoundReader(compound);
        while (reader.TryReadNext(out var header, out var packet))
        {
            if (header.PacketType == RtcpPacketType.SenderReport
                && RtcpSenderReport.TryParse(packet, out var report)
                && _bySsrc.TryGetValue(report.Ssrc, out var route))
            {
                route.Producer.OnSenderReport(route.Layer, report.NtpTimestamp, report.RtpTimestamp);
            }
        }
        if (reader.IsMalformed) Host.Metrics.Dropped(DropReason.Malformed);
    }

    void IProducerHost.SendKeyframeRequest(uint mediaSsrc)
    {
        var buffer = Host.SendBuffer;
        if (new RtcpPli(_rtcpSsrc, mediaSsrc).TryWrite(buffer, out var length) && Transport.SendRtcp(buffer, length))
            Host.Metrics.KeyframeRequestSent();
    }

    void IUplinkRepairHost.SendNack(uint mediaSsrc, ReadOnlySpan<ushort> lost)
    {
        var buffer = Host.SendBuffer;
        if (RtcpNack.TryWrite(buffer, _rtcpSsrc, mediaSsrc, lost, out var length) && Transport.SendRtcp(buffer, length))
            Host.Metrics.UplinkRepair.NackSent(lost.Length);
    }

    void IProducerHost.SendReceiverReport(RtcpReportBlock block)
    {
        var buffer = Host.SendBuffer;
        if (RtcpReceiverReport.TryWrite(buffer, _rtcpSsrc, [block], out var length)) Transport.SendRtcp(buffer, length);
    }

    // The client opens the channels of its publish transport; the server opens none here.
    void IDataChannelListener.OnDataChannelsEstablished(DataChannelTransport transport) { }

    // Track ids are opaque to clients; the stream id keeps them unique per transport.
    void IDataChannelListener.OnDataChannelOpened(DataChannel channel)
    {
        var producer = new DataProducer($"{Transport.Id}:{channel.Stream}", channel.Parameters, Host.Metrics.DataChannels);
        _dataProducers[channel.Stream] = producer;
        _peer.OnDataTrackOpened(producer);
    }

    void IDataChannelListener.OnDataChannelMessage(DataChannel channel, bool isString, ReadOnlySpan<byte> payload)
    {
        if (_dataProducers.TryGetValue(channel.Stream, out var producer)) producer.Relay(isString, payload);
    }

    void IDataChannelListener.OnDataChannelClosed(DataChannel channel)
    {
        if (!_dataProducers.Remove(channel.Stream, out var producer)) return;
        producer.Close();
        _peer.OnDataTrackClosed(producer);
    }

    void ITransportListener.OnTransportActivity(WebRtcTransport transport) => _peer.OnMediaActivity();

    void ITransportListener.OnTransportConnected(WebRtcTransport transport)
    {
        // Subscribers that joined before the publisher's DTLS finished are waiting for a keyframe.
        foreach (var producer in _producers) producer.RequestKeyframes();
    }

    void ITransportListener.OnTransportFailed(WebRtcTransport transport, string reason) { }

    void ITransportListener.OnPathChanged(WebRtcTransport transport, PathSwitchTrigger trigger) { }

    void ITransportListener.OnConsentLost(WebRtcTransport transport) => _peer.OnMediaPathLost(TransportDirection.Publish);

    void ITransportListener.OnTick(WebRtcTransport transport, long now)
    {
        foreach (var producer in _producers) producer.OnTick(now);
        Feedback.OnTick(now);
    }

    private static bool AsciiEquals(ReadOnlySpan<byte> bytes, string text)
    {
        if (bytes.Length != text.Length) return false;
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != text[i]) return false;
        }
        return true;
    }

    public void Dispose()
    {
        foreach (var producer in _producers.ToArray()) producer.Dispose();
        _producers.Clear();
        // Cleared first, so the channels closing with the transport report nothing more: the peer is leaving anyway.
        foreach (var producer in _dataProducers.Values) producer.Close();
        _dataProducers.Clear();
        Transport.Dispose();
    }
}
