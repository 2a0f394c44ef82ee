using Sfu.Media.Congestion;
using Sfu.Media.Diagnostics;
using Sfu.Media.Dtls;
using Sfu.Media.Rtcp;
using Sfu.Media.Rtp;
using Sfu.Media.Sdp;
using Sfu.Media.Transports;
using Sfu.Media.Worker;

namespace Sfu.Media.Routing;

/// <summary>
/// A peer's publish transport and the producers it feeds. Routes each incoming RTP packet to its producer by
/// SSRC, learning unsignalled SSRCs from the mid (and, for simulcast, rid) header extensions. Of a simulcast
/// track only the highest layer is forwarded. Worker thread only.
/// </summary>
public sealed class PublisherMedia : ITransportListener, IDisposable
{
    private readonly IMediaPeerListener _peer;
    private readonly Dictionary<uint, Producer> _bySsrc = [];
    private readonly HashSet<uint> _notForwarded = [];
    private readonly List<Producer> _producers = [];
    private readonly uint _rtcpSsrc = (uint)Random.Shared.NextInt64(1, uint.MaxValue);

    public PublisherMedia(MediaWorker worker, DtlsContext dtlsContext, string id, IMediaPeerListener peer)
    {
        Worker = worker;
        _peer = peer;
        Transport = new WebRtcTransport(worker, id, TransportDirection.Publish, dtlsContext, this);
        Feedback = new PublisherFeedback(worker, Transport, _rtcpSsrc, _producers);
    }

    public WebRtcTransport Transport { get; }

    public IReadOnlyList<Producer> Producers => _producers;

    /// <summary>Congestion feedback (transport-cc, REMB) sent to the publisher.</summary>
    public PublisherFeedback Feedback { get; }

    internal MediaWorker Worker { get; }

    public Producer AddProducer(string id, PublishedTrack track)
    {
        var producer = new Producer(id, track, this, Worker.Time);
        _producers.Add(producer);
        Feedback.OnTrackAdded(track);
        foreach (var stream in track.Streams)
        {
            if (producer.Ssrc is null && (track.Rids.Count <= 1 || track.Streams.Count == 1))
            {
                producer.Ssrc = stream.Ssrc;
                _bySsrc[stream.Ssrc] = producer;
            }
            else _notForwarded.Add(stream.Ssrc);
            if (stream.RtxSsrc is { } rtx) _notForwarded.Add(rtx);
        }
        return producer;
    }

    public void RemoveProducer(Producer producer)
    {
        _producers.Remove(producer);
        foreach (var (ssrc, owner) in _bySsrc.ToArray())
        {
            if (ReferenceEquals(owner, producer)) _bySsrc.Remove(ssrc);
        }
        producer.Dispose();
    }

    void ITransportListener.OnRtp(WebRtcTransport transport, Span<byte> packet)
    {
        if (!RtpPacket.TryParse(packet, out var rtp))
        {
            Worker.Metrics.Dropped(DropReason.Malformed);
            return;
        }
        var now = Worker.Time.GetTimestamp();
        Feedback.OnRtp(rtp, now);
        if (!_bySsrc.TryGetValue(rtp.Ssrc, out var producer) && !TryLearn(rtp, out producer))
        {
            if (!_notForwarded.Contains(rtp.Ssrc)) Worker.Metrics.Dropped(DropReason.UnknownStream);
            return;
        }
        producer.ReceiveRtp(rtp, now);
    }

    /// <summary>Maps an unsignalled SSRC to the producer whose mid it carries (and, for simulcast, its chosen rid).</summary>
    private bool TryLearn(RtpPacket rtp, out Producer producer)
    {
        producer = null!;
        if (_notForwarded.Contains(rtp.Ssrc)) return false;
        foreach (var candidate in _producers)
        {
            var ids = candidate.Track.Extensions;
            if (ids.Mid is not { } midId || !rtp.TryGetExtension(midId, out var mid) || !AsciiEquals(mid, candidate.Track.Mid)) continue;
            if (ids.RepairedRtpStreamId is { } repairedId && rtp.TryGetExtension(repairedId, out _))
            {
                _notForwarded.Add(rtp.Ssrc);
                return false;
            }
            if (candidate.Track.Rids.Count > 1)
            {
                var chosen = candidate.Track.Rids[^1];
                if (ids.RtpStreamId is not { } ridId || !rtp.TryGetExtension(ridId, out var rid)) return false;
                if (!AsciiEquals(rid, chosen))
                {
                    _notForwarded.Add(rtp.Ssrc);
                    return false;
                }
            }
            if (candidate.Ssrc is { } previous) _bySsrc.Remove(previous);
            candidate.Ssrc = rtp.Ssrc;
            _bySsrc[rtp.Ssrc] = candidate;
            producer = candidate;
            return true;
        }
        return false;
    }

    void ITransportListener.OnRtcp(WebRtcTransport transport, ReadOnlySpan<byte> compound)
    {
        var reader = new RtcpCompoundReader(compound);
        while (reader.TryReadNext(out var header, out var packet))
        {
            if (header.PacketType == RtcpPacketType.SenderReport
                && RtcpSenderReport.TryParse(packet, out var report)
                && _bySsrc.TryGetValue(report.Ssrc, out var producer))
            {
                producer.ReceiveSenderReport(report.NtpTimestamp, report.RtpTimestamp);
            }
        }
        if (reader.IsMalformed) Worker.Metrics.Dropped(DropReason.Malformed);
    }

    internal void SendKeyframeRequest(uint mediaSsrc)
    {
        var buffer = Worker.SendBuffer;
        if (new RtcpPli(_rtcpSsrc, mediaSsrc).TryWrite(buffer, out var length) && Transport.SendRtcp(buffer, length))
            Worker.Metrics.KeyframeRequestSent();
    }

    internal void SendReceiverReport(RtcpReportBlock block)
    {
        var buffer = Worker.SendBuffer;
        if (RtcpReceiverReport.TryWrite(buffer, _rtcpSsrc, [block], out var length)) Transport.SendRtcp(buffer, length);
    }

    void ITransportListener.OnTransportActivity(WebRtcTransport transport) => _peer.OnMediaActivity();

    void ITransportListener.OnTransportConnected(WebRtcTransport transport)
    {
        // Subscribers that joined before the publisher's DTLS finished are waiting for a keyframe.
        foreach (var producer in _producers) producer.RequestKeyframe();
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
        Transport.Dispose();
    }
}
