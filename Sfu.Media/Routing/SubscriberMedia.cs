using Sfu.Media.Congestion;
using Sfu.Media.DataChannels;
using Sfu.Media.Diagnostics;
using Sfu.Media.Dtls;
using Sfu.Media.Rtcp;
using Sfu.Media.Stun;
using Sfu.Media.Transports;
using Sfu.Media.Worker;

namespace Sfu.Media.Routing;

/// <summary>
/// A peer's subscribe transport and the consumers that send on it. Turns the subscriber's feedback into
/// actions: PLI/FIR become keyframe requests to publishers, NACKs become retransmissions; and when media
/// moves to a new client address, every video track asks its publisher for a keyframe. Estimates what the
/// subscriber's link carries from the transport-cc feedback on what it sends (<see cref="EstimatedBitrate"/>),
/// probing for headroom with padding, and starts that estimate afresh on every new path. Twice a second its
/// allocator shares <see cref="AvailableBitrate"/> between the consumers, choosing each one's layer.
/// Worker thread only.
/// </summary>
public sealed class SubscriberMedia : ITransportListener, IDataChannelListener, IDisposable
{
    private readonly List<DataConsumer> _dataConsumers = [];
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
    private static readonly TimeSpan EstimateSampleInterval = TimeSpan.FromSeconds(1);

    private readonly SendSideBandwidthEstimator _estimator;
    private readonly double _microsecondsPerTick;
    private readonly long _estimateSampleInterval;
    private long _nextEstimateSample;

    // After a restart, the start-up probes wait for the first transport-cc feedback from the new link. A client
    // that changes network goes on sending (feedback too) on its dead path for a moment after the server switched:
    // probes sent then had their feedback lost, and the estimate crept up from its start for seconds until the
    // next periodic probe.
    private bool _probesAwaitFeedback;

    public SubscriberMedia(MediaWorker worker, DtlsContext dtlsContext, string id, IMediaPeerListener peer)
    {
        Worker = worker;
        _peer = peer;
        _microsecondsPerTick = 1e6 / worker.Time.TimestampFrequency;
        _estimateSampleInterval = (long)(EstimateSampleInterval.TotalSeconds * worker.Time.TimestampFrequency);
        _estimator = new SendSideBandwidthEstimator(BandwidthEstimatorSettings.Default, Microseconds(worker.Time.GetTimestamp()));
        Transport = new WebRtcTransport(worker, id, TransportDirection.Subscribe, dtlsContext, this);
        _allocator = new BitrateAllocator(worker.Time.TimestampFrequency);
        _allocationInterval = (long)(AllocationInterval.TotalSeconds * worker.Time.TimestampFrequency);
    }

    public WebRtcTransport Transport { get; }

    /// <summary>What this subscriber's link is estimated to carry, bits/s: the budget for what is sent to it.</summary>
    public long EstimatedBitrate => _estimator.EstimatedBitrate;

    internal MediaWorker Worker { get; }

    /// <summary>
    /// Bits per second this transport may send to its subscriber: the bandwidth estimate, once the subscriber sends
    /// feedback (transport-cc or REMB) to base one on. Null means no limit: each consumer forwards the best layer that
    /// arrives and its subscriber allows, as for a client that sends no congestion feedback at all.
    /// </summary>
    public long? AvailableBitrate => _estimator.HasFeedback ? _estimator.EstimatedBitrate : null;

    /// <summary>The transport-wide sequence number the next packet sent on this transport carries.</summary>
    internal ushort NextTransportSequence => _estimator.History.NextSequenceNumber;

    /// <summary>
    /// What the subscriber's consumers would send if the estimate allowed (bits/s): when it is more than the
    /// estimate, the link is probed every few seconds to find out whether it can carry it.
    /// </summary>
    public void SetDesiredBitrate(long bitrate) => _estimator.SetDesiredBitrate(bitrate);

    /// <summary>
    /// An ICE restart: new credentials, and most likely a new network under them, so the estimate starts again.
    /// </summary>
    public IceCredentials RestartIce()
    {
        var credentials = Transport.RestartIce();
        RestartEstimate(Worker.Time.GetTimestamp());
        return credentials;
    }

    /// <summary>
    /// Sends an RTP packet written into the worker's send buffer; one that carries this transport's next
    /// transport-wide sequence number (<paramref name="stamped"/>) is remembered under it for the feedback.
    /// </summary>
    internal bool SendRtp(Span<byte> buffer, int length, bool stamped, long now, int probeCluster = 0)
    {
        if (!Transport.SendRtp(buffer, length)) return false;
        if (stamped) _estimator.OnPacketSent(length, Microseconds(now), probeCluster);
        return true;
    }

    public Consumer Consume(Producer producer, ConsumerParameters parameters)
    {
        var consumer = new Consumer(producer, this, parameters, Worker.Time);
        _bySsrc[parameters.Ssrc] = consumer;
        _consumers.Add(consumer);
        _allocations.Add(consumer.Allocation);
        return consumer;
    }

    /// <summary>Starts receiving a data track: its channel opens as soon as this transport's association is up.</summary>
    public DataConsumer ConsumeData(DataProducer producer)
    {
        var consumer = new DataConsumer(producer, this);
        _dataConsumers.Add(consumer);
        return consumer;
    }

    internal void RemoveDataConsumer(DataConsumer consumer) => _dataConsumers.Remove(consumer);

    void IDataChannelListener.OnDataChannelsEstablished(DataChannelTransport transport)
    {
        foreach (var consumer in _dataConsumers) consumer.TryOpen();
    }

    // The channels of a subscribe transport are the server's; one the client opens here would lead nowhere.
    void IDataChannelListener.OnDataChannelOpened(DataChannel channel) => Transport.DataChannels?.Close(channel);

    // Data tracks flow one way; what a subscriber sends on a server channel is counted by the transport and goes no further.
    void IDataChannelListener.OnDataChannelMessage(DataChannel channel, bool isString, ReadOnlySpan<byte> payload) { }

    // A channel the subscriber closed stays closed until a new association; its messages count as channel-not-open.
    void IDataChannelListener.OnDataChannelClosed(DataChannel channel) { }

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
        var desired = 0L;
        foreach (var consumer in _consumers)
        {
            consumer.ApplyAllocation();
            desired += consumer.Allocation.DesiredBitrate();
        }
        // More wanted than the estimate allows: the estimator probes for it every few seconds.
        _estimator.SetDesiredBitrate(desired);
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
                case RtcpPacketType.PayloadFeedback when header.Count == RtcpPacketType.FmtApplicationLayer && RtcpRemb.TryParse(packet, out var remb):
                    Worker.Metrics.RembReceived();
                    _estimator.OnRemb((long)Math.Min(remb.Bitrate, long.MaxValue), Microseconds(Worker.Time.GetTimestamp()));
                    break;
                case RtcpPacketType.ReceiverReport when RtcpReceiverReport.TryParse(packet, out var report):
                    OnReceiverReport(report);
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
                    if (RtcpTransportFeedback.TryParse(packet, out var transportCc))
                    {
                        _estimator.OnTransportFeedback(transportCc, Microseconds(Worker.Time.GetTimestamp()));
                        _probesAwaitFeedback = false;
                    }
                    else
                        Worker.Metrics.Dropped(DropReason.Malformed);
                    break;
            }
        }
        if (reader.IsMalformed) Worker.Metrics.Dropped(DropReason.Malformed);
    }

    // Loss as the subscriber's receiver reports tell it, for the blocks about what this transport sends; the
    // estimator uses it only while no transport-cc feedback arrives.
    private void OnReceiverReport(RtcpReceiverReport report)
    {
        int sum = 0, blocks = 0;
        for (var i = 0; i < report.ReportCount; i++)
        {
            var block = report.GetReportBlock(i);
            if (!_bySsrc.ContainsKey(block.Ssrc)) continue;
            sum += block.FractionLost;
            blocks++;
        }
        if (blocks > 0) _estimator.OnReceiverReportLoss((byte)(sum / blocks), Microseconds(Worker.Time.GetTimestamp()));
    }

    internal void SendSenderReport(uint ssrc, ulong ntp, uint rtp, uint packets, uint octets)
    {
        var buffer = Worker.SendBuffer;
        if (RtcpSenderReport.TryWrite(buffer, ssrc, ntp, rtp, packets, octets, [], out var length)) Transport.SendRtcp(buffer, length);
    }

    void ITransportListener.OnPathChanged(WebRtcTransport transport, PathSwitchTrigger trigger)
    {
        var now = Worker.Time.GetTimestamp();
        var since = now - (long)(RecentWindow.TotalSeconds * Worker.Time.TimestampFrequency);
        foreach (var consumer in _bySsrc.Values)
        {
            if (consumer.Producer.VideoCodec is null) continue;
            consumer.ResendSince(since, MaxResentPerTrack);
            consumer.RequestKeyframe();
        }
        // A new path is a new link (Wi-Fi to 4G): what the old one carried says nothing about it.
        RestartEstimate(now);
    }

    private void RestartEstimate(long now)
    {
        _estimator.Restart(Microseconds(now));
        BitrateAllocator.OnNewLink(_allocations);
        Worker.Metrics.EstimateRestarted();
        _probesAwaitFeedback = true;
    }

    // Probe clusters go out as padding on the RTX stream of a video consumer; without one they wait.
    private void SendDueProbe(long now)
    {
        if (!Transport.CanSend || _probesAwaitFeedback) return;
        Consumer? carrier = null;
        foreach (var consumer in _bySsrc.Values)
        {
            if (!consumer.CanSendPadding) continue;
            carrier = consumer;
            break;
        }
        if (carrier is null || !_estimator.TryTakeProbe(Microseconds(now), out var cluster)) return;
        var sent = 0;
        for (var i = 0; i < cluster.PacketCount; i++)
        {
            if (carrier.SendPadding(cluster.PaddingPerPacket, cluster.Id, now)) sent++;
        }
        Worker.Metrics.ProbeSent(sent);
    }

    private long Microseconds(long timestamp) => (long)(timestamp * _microsecondsPerTick);

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
            if (consumer.TakeLayerChange(out var layer, out var paused, out var reason))
                _peer.OnTrackLayerChanged(consumer.Producer.Id, layer, paused, reason);
        }
        if (now >= _nextAllocation) Allocate(now);
        SendDueProbe(now);
        if (now >= _nextEstimateSample && Transport.CanSend)
        {
            _nextEstimateSample = now + _estimateSampleInterval;
            Worker.Metrics.BandwidthEstimated(_estimator.EstimatedBitrate);
        }
    }

    public void Dispose()
    {
        foreach (var consumer in _dataConsumers.ToArray()) consumer.Dispose();
        foreach (var consumer in _consumers.ToArray()) consumer.Dispose();
        Transport.Dispose();
    }
}
