using Sfu.Media.Diagnostics;
using Sfu.Media.Dtls;
using Sfu.Media.Rtcp;
using Sfu.Media.Transports;
using Sfu.Media.Worker;

namespace Sfu.Media.Routing;

/// <summary>
/// A peer's subscribe transport and the consumers that send on it. Turns the subscriber's feedback into
/// actions: PLI/FIR become keyframe requests to publishers, NACKs become retransmissions; and when media
/// moves to a new client address, every video track asks its publisher for a keyframe. Twice a second its
/// allocator shares <see cref="AvailableBitrate"/> between the consumers, choosing each one's layer.
/// Worker thread only.
/// </summary>
public sealed class SubscriberMedia : ITransportListener, IDisposable
{
    private readonly IMediaPeerListener _peer;
    private readonly Dictionary<uint, Consumer> _bySsrc = [];
    private readonly uint _rtcpSsrc = (uint)Random.Shared.NextInt64(1, uint.MaxValue);
    private readonly List<Consumer> _consumers = [];
    private readonly List<LayerAllocation> _allocations = [];
    private readonly BitrateAllocator _allocator;
    private readonly long _allocationInterval;
    private long _nextAllocation;

    // Often enough to follow a falling estimate within a second; the allocator's own hysteresis slows moves up.
    private static readonly TimeSpan AllocationInterval = TimeSpan.FromMilliseconds(500);

    // What a consumer sends again to a new client address: the last few hundred milliseconds, about one or two
    // frames' worth of packets, which most likely went to the address the client just left.
    private static readonly TimeSpan RecentWindow = TimeSpan.FromMilliseconds(300);
    private const int MaxResentPerTrack = 64;

    public SubscriberMedia(MediaWorker worker, DtlsContext dtlsContext, string id, IMediaPeerListener peer)
    {
        Worker = worker;
        _peer = peer;
        Transport = new WebRtcTransport(worker, id, TransportDirection.Subscribe, dtlsContext, this);
        _allocator = new BitrateAllocator(worker.Time.TimestampFrequency);
        _allocationInterval = (long)(AllocationInterval.TotalSeconds * worker.Time.TimestampFrequency);
    }

    public WebRtcTransport Transport { get; }

    internal MediaWorker Worker { get; }

    /// <summary>
    /// Bits per second this transport may send to its subscriber, from the bandwidth estimate; null (no estimate)
    /// means no limit, so each consumer forwards the best layer that arrives and its subscriber allows.
    /// </summary>
    public long? AvailableBitrate { get; set; }

    public Consumer Consume(Producer producer, ConsumerParameters parameters)
    {
        var consumer = new Consumer(producer, this, parameters, Worker.Time);
        _bySsrc[parameters.Ssrc] = consumer;
        _consumers.Add(consumer);
        _allocations.Add(consumer.Allocation);
        return consumer;
    }

    internal void RemoveConsumer(Consumer consumer)
    {
        if (_bySsrc.TryGetValue(consumer.Parameters.Ssrc, out var current) && ReferenceEquals(current, consumer))
            _bySsrc.Remove(consumer.Parameters.Ssrc);
        _consumers.Remove(consumer);
        _allocations.Remove(consumer.Allocation);
    }

    /// <summary>Applies a subscriber's preferences for one of its tracks at once, instead of at the next allocation.</summary>
    public void SetPreferences(Consumer consumer, LayerPreferences preferences)
    {
        consumer.Allocation.SetPreferences(preferences);
        Allocate(Worker.Time.GetTimestamp());
    }

    /// <summary>Shares the available bitrate between the consumers (on the tick, or when preferences change).</summary>
    private void Allocate(long now)
    {
        _nextAllocation = now + _allocationInterval;
        foreach (var consumer in _consumers) consumer.RefreshLayerFigures();
        _allocator.Allocate(AvailableBitrate, _allocations, now);
        foreach (var consumer in _consumers) consumer.ApplyAllocation();
    }

    void ITransportListener.OnRtp(WebRtcTransport transport, Span<byte> packet) =>
        Worker.Metrics.Dropped(DropReason.UnknownStream); // a subscribe transport carries no media from the client

    void ITransportListener.OnRtcp(WebRtcTransport transport, ReadOnlySpan<byte> compound)
    {
        var reader = new RtcpCompoundReader(compound);
        Span<ushort> lost = stackalloc ushort[256];
        while (reader.TryReadNext(out var header, out var packet))
        {
            switch (header.PacketType)
            {
                case RtcpPacketType.PayloadFeedback when header.Count == RtcpPacketType.FmtPli && RtcpPli.TryParse(packet, out var pli):
                    Worker.Metrics.KeyframeRequestReceived();
                    if (_bySsrc.TryGetValue(pli.MediaSsrc, out var target)) target.RequestKeyframe();
                    break;
                case RtcpPacketType.PayloadFeedback when header.Count == RtcpPacketType.FmtFir && RtcpFir.TryParse(packet, out var fir):
                    Worker.Metrics.KeyframeRequestReceived();
                    for (var i = 0; i < fir.EntryCount; i++)
                    {
                        if (_bySsrc.TryGetValue(fir.GetEntry(i).Ssrc, out var firTarget)) firTarget.RequestKeyframe();
                    }
                    break;
                case RtcpPacketType.PayloadFeedback when header.Count == RtcpPacketType.FmtApplicationLayer && RtcpRemb.TryParse(packet, out _):
                    Worker.Metrics.RembReceived();
                    break;
                case RtcpPacketType.TransportFeedback when header.Count == RtcpPacketType.FmtGenericNack && RtcpNack.TryParse(packet, out var nack):
                    Worker.Metrics.NackReceived();
                    if (_bySsrc.TryGetValue(nack.MediaSsrc, out var nacked))
                    {
                        var count = nack.CopyLostSequenceNumbers(lost);
                        nacked.Retransmit(lost[..count]);
                    }
                    break;
                case RtcpPacketType.TransportFeedback when header.Count == RtcpPacketType.FmtTransportWideCc:
                    Worker.Metrics.TransportCcReceived();
                    break;
            }
        }
        if (reader.IsMalformed) Worker.Metrics.Dropped(DropReason.Malformed);
    }

    internal void SendSenderReport(uint ssrc, ulong ntp, uint rtp, uint packets, uint octets)
    {
        var buffer = Worker.SendBuffer;
        if (RtcpSenderReport.TryWrite(buffer, ssrc, ntp, rtp, packets, octets, [], out var length)) Transport.SendRtcp(buffer, length);
    }

    void ITransportListener.OnPathChanged(WebRtcTransport transport, PathSwitchTrigger trigger)
    {
        var since = Worker.Time.GetTimestamp() - (long)(RecentWindow.TotalSeconds * Worker.Time.TimestampFrequency);
        foreach (var consumer in _bySsrc.Values)
        {
            if (consumer.Producer.VideoCodec is null) continue;
            consumer.ResendSince(since, MaxResentPerTrack);
            consumer.RequestKeyframe();
        }
    }

    void ITransportListener.OnTransportActivity(WebRtcTransport transport) => _peer.OnMediaActivity();

    void ITransportListener.OnTransportConnected(WebRtcTransport transport)
    {
        foreach (var consumer in _bySsrc.Values) consumer.RequestKeyframe();
    }

    void ITransportListener.OnTransportFailed(WebRtcTransport transport, string reason) { }

    void ITransportListener.OnConsentLost(WebRtcTransport transport) => _peer.OnMediaPathLost(TransportDirection.Subscribe);

    void ITransportListener.OnTick(WebRtcTransport transport, long now)
    {
        foreach (var consumer in _consumers)
        {
            consumer.OnTick(now);
            if (consumer.TakeLayerChange(out var layer, out var paused))
                _peer.OnTrackLayerChanged(consumer.Producer.Id, layer, paused, consumer.Allocation.Reason);
        }
        if (now >= _nextAllocation) Allocate(now);
    }

    public void Dispose()
    {
        foreach (var consumer in _consumers.ToArray()) consumer.Dispose();
        Transport.Dispose();
    }
}
