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
/// Owned by its room's <see cref="Router"/>; owns its transport, its consumers (one per track id) and data consumers.
/// Worker thread only.
/// </summary>
public sealed class SubscriberMedia : ITransportListener, IDataChannelListener, IConsumerHost, IDataConsumerHost, IDisposable
{
    private readonly List<DataConsumer> _dataConsumers = [];
    private readonly Dictionary<string, Consumer> _byTrack = new(StringComparer.Ordinal);
    // The subscriber's set-track-preferences per track, kept for a consumer created later (a renegotiation).
    private readonly Dictionary<string, LayerPreferences> _preferences = new(StringComparer.Ordinal);
    private readonly IMediaPeerListener _peer;
    private readonly Dictionary<uint, Consumer> _bySsrc = [];
    private readonly uint _rtcpSsrc = (uint)Random.Shared.NextInt64(1, uint.MaxValue);
    private readonly List<Consumer> _consumers = [];
    private readonly List<LayerAllocation> _allocations = [];
    private readonly BitrateAllocator _allocator;
    private readonly long _allocationInterval;
    private long _nextAllocation;
    // The estimate the last allocation shared out; one that falls well below it is shared out again at once.
    private long _allocatedEstimate = long.MaxValue;
    private const double ReallocateBelowShare = 0.9;

    // Often enough to follow a falling estimate within a second; the allocator's own hysteresis slows moves up.
    private static readonly TimeSpan AllocationInterval = TimeSpan.FromMilliseconds(500);

    // What a consumer sends again to a new client address: the last few hundred milliseconds, about one or two
    // frames' worth of packets, which most likely went to the address the client just left.
    private static readonly TimeSpan RecentWindow = TimeSpan.FromMilliseconds(300);
    private const int MaxResentPerTrack = 64;
    // Padding packets one tick sends at most: a cluster's two-slot catch-up at the highest probe rates.
    private const int MaxPaddingPerTick = 256;
    private static readonly TimeSpan EstimateSampleInterval = TimeSpan.FromSeconds(1);

    private readonly SendSideBandwidthEstimator _estimator;
    private readonly double _microsecondsPerTick;
    private readonly long _estimateSampleInterval;
    private long _nextEstimateSample;
    private bool _sendingProbePadding;

    // After a restart, the start-up probes wait for the first transport-cc feedback from the new link. A client
    // that changes network goes on sending (feedback too) on its dead path for a moment after the server switched:
    // probes sent then had their feedback lost, and the estimate crept up from its start for seconds until the
    // next periodic probe.
    private bool _probesAwaitFeedback;

    internal SubscriberMedia(ITransportHost host, DtlsContext dtlsContext, string id, IMediaPeerListener peer)
    {
        Host = host;
        _peer = peer;
        _microsecondsPerTick = 1e6 / host.Time.TimestampFrequency;
        _estimateSampleInterval = (long)(EstimateSampleInterval.TotalSeconds * host.Time.TimestampFrequency);
        _estimator = new SendSideBandwidthEstimator(BandwidthEstimatorSettings.Default, Microseconds(host.Time.GetTimestamp()));
        Transport = new WebRtcTransport(host, id, TransportDirection.Subscribe, dtlsContext, this);
        _allocator = new BitrateAllocator(host.Time.TimestampFrequency);
        _allocationInterval = (long)(AllocationInterval.TotalSeconds * host.Time.TimestampFrequency);
    }

    public WebRtcTransport Transport { get; }

    /// <summary>What this subscriber's link is estimated to carry, bits/s: the budget for what is sent to it.</summary>
    public long EstimatedBitrate => _estimator.EstimatedBitrate;

    internal IMediaHost Host { get; }

    IMediaHost IConsumerHost.Host => Host;

    bool IConsumerHost.CanSend => Transport.CanSend;

    DataChannelTransport? IDataConsumerHost.DataChannels => Transport.DataChannels;

    /// <summary>
    /// Bits per second this transport may send to its subscriber: the bandwidth estimate, once the subscriber sends
    /// feedback (transport-cc or REMB) to base one on. Null means no limit: each consumer forwards the best layer that
    /// arrives and its subscriber allows, as for a client that sends no congestion feedback at all.
    /// </summary>
    public long? AvailableBitrate => _estimator.HasFeedback ? _estimator.EstimatedBitrate : null;

    /// <summary>The transport-wide sequence number the next packet sent on this transport carries.</summary>
    ushort IConsumerHost.NextTransportSequence => _estimator.History.NextSequenceNumber;

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
        RestartEstimate(Host.Time.GetTimestamp());
        return credentials;
    }

    /// <summary>
    /// Sends an RTP packet written into the worker's send buffer; one that carries this transport's next
    /// transport-wide sequence number (<paramref name="stamped"/>) is remembered under it for the feedback.
    /// </summary>
    bool IConsumerHost.SendRtp(Span<byte> buffer, int length, bool stamped)
    {
        if (!Transport.SendRtp(buffer, length)) return false;
        if (!stamped) return true;
        // The moment it is queued for the socket, not when its source packet reached the server: time it spent
        // waiting for a busy worker, behind other subscribers' copies or in a pipe from another worker is not a queue
        // on the subscriber's path, and as a send time it would read as one (a rising delay, an estimate that dips).
        var now = Host.Time.GetTimestamp();
        _estimator.OnPacketSent(length, Microseconds(now));
        // A running probe cluster is topped up at every media send too, not only on the tick: a loaded worker's ticks
        // come late, and a probe sent behind its schedule measures the sender, not the link.
        if (_estimator.IsProbing && !_sendingProbePadding) SendDueProbe(now);
        return true;
    }

    /// <summary>The consumer of a track, if this subscriber receives it.</summary>
    public Consumer? FindConsumer(string trackId) => _byTrack.GetValueOrDefault(trackId);

    /// <summary>
    /// Receives <paramref name="producer"/> with <paramref name="parameters"/>: keeps the track's consumer when nothing
    /// changed, replaces it otherwise. The track's stored preferences apply to a new consumer.
    /// </summary>
    public Consumer Consume(Producer producer, ConsumerParameters parameters)
    {
        if (_byTrack.TryGetValue(producer.Id, out var existing))
        {
            if (existing.Parameters == parameters && ReferenceEquals(existing.Producer, producer)) return existing;
            existing.Dispose();
        }
        var consumer = new Consumer(producer, this, parameters, Host.Time);
        _bySsrc[parameters.Ssrc] = consumer;
        _byTrack[producer.Id] = consumer;
        _consumers.Add(consumer);
        _allocations.Add(consumer.Allocation);
        if (_preferences.TryGetValue(producer.Id, out var preferences)) SetPreferences(consumer, preferences);
        return consumer;
    }

    /// <summary>Stops every consumer whose track is not in <paramref name="trackIds"/>, and forgets its preferences.</summary>
    internal void StopConsumingExcept(IReadOnlySet<string> trackIds)
    {
        foreach (var (trackId, consumer) in _byTrack.ToArray())
        {
            if (trackIds.Contains(trackId)) continue;
            consumer.Dispose();
            _preferences.Remove(trackId);
        }
    }

    /// <summary>
    /// One data consumer per data track in <paramref name="wanted"/> once this transport carries SCTP; the others go
    /// (their channels close by stream reset).
    /// </summary>
    public void UpdateDataConsumers(IReadOnlyList<DataProducer> wanted)
    {
        if (Transport.DataChannels is null) wanted = [];
        foreach (var producer in wanted)
        {
            if (_dataConsumers.Exists(c => ReferenceEquals(c.Producer, producer))) continue;
            _dataConsumers.Find(c => c.Producer.Id == producer.Id)?.Dispose();
            ConsumeData(producer);
        }
        foreach (var consumer in _dataConsumers.ToArray())
        {
            if (!wanted.Contains(consumer.Producer)) consumer.Dispose();
        }
    }

    /// <summary>The data consumers, one per data track received.</summary>
    public IReadOnlyList<DataConsumer> DataConsumers => _dataConsumers;

    /// <summary>Starts receiving a data track: its channel opens as soon as this transport's association is up.</summary>
    internal DataConsumer ConsumeData(DataProducer producer)
    {
        var consumer = new DataConsumer(producer, this);
        _dataConsumers.Add(consumer);
        return consumer;
    }

    void IDataConsumerHost.RemoveDataConsumer(DataConsumer consumer) => _dataConsumers.Remove(consumer);

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

    void IConsumerHost.RemoveConsumer(Consumer consumer)
    {
        if (_bySsrc.TryGetValue(consumer.Parameters.Ssrc, out var current) && ReferenceEquals(current, consumer))
            _bySsrc.Remove(consumer.Parameters.Ssrc);
        if (_byTrack.TryGetValue(consumer.Producer.Id, out var byTrack) && ReferenceEquals(byTrack, consumer))
            _byTrack.Remove(consumer.Producer.Id);
        _consumers.Remove(consumer);
        _allocations.Remove(consumer.Allocation);
    }

    /// <summary>
    /// The subscriber's preferences for one track: applied at once to its consumer, and kept for a consumer of the track
    /// created later.
    /// </summary>
    public void SetPreferences(string trackId, LayerPreferences preferences)
    {
        _preferences[trackId] = preferences;
        if (_byTrack.TryGetValue(trackId, out var consumer)) SetPreferences(consumer, preferences);
    }

    /// <summary>Applies a subscriber's preferences for one of its tracks at once, instead of at the next allocation.</summary>
    private void SetPreferences(Consumer consumer, LayerPreferences preferences)
    {
        consumer.Allocation.SetPreferences(preferences);
        Allocate(Host.Time.GetTimestamp());
    }

    /// <summary>Shares the available bitrate between the consumers (on the tick, or when preferences change).</summary>
    private void Allocate(long now)
    {
        _nextAllocation = now + _allocationInterval;
        _allocatedEstimate = AvailableBitrate ?? long.MaxValue;
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
        Host.Metrics.Dropped(DropReason.UnknownStream); // a subscribe transport carries no media from the client

    void ITransportListener.OnRtcp(WebRtcTransport transport, ReadOnlySpan<byte> compound)
    {
        var reader = new RtcpCompoundReader(compound);
        Span<ushort> lost = stackalloc ushort[256];
        while (reader.TryReadNext(out var header, out var packet))
        {
            switch (header.PacketType)
            {
                case RtcpPacketType.PayloadFeedback when header.Count == RtcpPacketType.FmtPli && RtcpPli.TryParse(packet, out var pli):
                    Host.Metrics.KeyframeRequestReceived();
                    if (_bySsrc.TryGetValue(pli.MediaSsrc, out var target)) target.RequestKeyframe();
                    break;
                case RtcpPacketType.PayloadFeedback when header.Count == RtcpPacketType.FmtFir && RtcpFir.TryParse(packet, out var fir):
                    Host.Metrics.KeyframeRequestReceived();
                    for (var i = 0; i < fir.EntryCount; i++)
                    {
                        if (_bySsrc.TryGetValue(fir.GetEntry(i).Ssrc, out var firTarget)) firTarget.RequestKeyframe();
                    }
                    break;
                case RtcpPacketType.PayloadFeedback when header.Count == RtcpPacketType.FmtApplicationLayer && RtcpRemb.TryParse(packet, out var remb):
                    Host.Metrics.RembReceived();
                    _estimator.OnRemb((long)Math.Min(remb.Bitrate, long.MaxValue), Microseconds(Host.Time.GetTimestamp()));
                    break;
                case RtcpPacketType.ReceiverReport when RtcpReceiverReport.TryParse(packet, out var report):
                    OnReceiverReport(report);
                    break;
                case RtcpPacketType.TransportFeedback when header.Count == RtcpPacketType.FmtGenericNack && RtcpNack.TryParse(packet, out var nack):
                    Host.Metrics.NackReceived();
                    if (_bySsrc.TryGetValue(nack.MediaSsrc, out var nacked))
                    {
                        var count = nack.CopyLostSequenceNumbers(lost);
                        nacked.Retransmit(lost[..count]);
                    }
                    break;
                case RtcpPacketType.TransportFeedback when header.Count == RtcpPacketType.FmtTransportWideCc:
                    Host.Metrics.TransportCcReceived();
                    if (RtcpTransportFeedback.TryParse(packet, out var transportCc))
                        OnTransportFeedback(transportCc);
                    else
                        Host.Metrics.Dropped(DropReason.Malformed);
                    break;
            }
        }
        if (reader.IsMalformed) Host.Metrics.Dropped(DropReason.Malformed);
    }

    // A falling estimate moves layers down at once rather than at the next allocation (up to half a second later):
    // until the switch, the link's queue fills with what it can no longer carry, and the picture freezes.
    private void OnTransportFeedback(in RtcpTransportFeedback feedback)
    {
        var now = Host.Time.GetTimestamp();
        _estimator.OnTransportFeedback(feedback, Microseconds(now));
        _probesAwaitFeedback = false;
        if (AvailableBitrate < ReallocateBelowShare * _allocatedEstimate) Allocate(now);
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
        if (blocks > 0) _estimator.OnReceiverReportLoss((byte)(sum / blocks), Microseconds(Host.Time.GetTimestamp()));
    }

    void IConsumerHost.SendSenderReport(uint ssrc, ulong ntp, uint rtp, uint packets, uint octets)
    {
        var buffer = Host.SendBuffer;
        if (RtcpSenderReport.TryWrite(buffer, ssrc, ntp, rtp, packets, octets, [], out var length)) Transport.SendRtcp(buffer, length);
    }

    void ITransportListener.OnPathChanged(WebRtcTransport transport, PathSwitchTrigger trigger)
    {
        var now = Host.Time.GetTimestamp();
        var since = now - (long)(RecentWindow.TotalSeconds * Host.Time.TimestampFrequency);
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
        Host.Metrics.EstimateRestarted();
        _probesAwaitFeedback = true;
    }

    // Probe clusters are paced over the ticks: each tick tops what was sent since the cluster began up to its
    // schedule with padding on the RTX stream of a video consumer; without one they wait.
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
        if (carrier is null) return;
        var nowUs = Microseconds(now);
        var due = _estimator.ProbePaddingDue(nowUs, out var started);
        if (started) Host.Metrics.ProbeClusterStarted();
        // Each packet sent counts toward the cluster, so the due amount shrinks; the bound only guards against a send
        // that does not reach the estimator.
        _sendingProbePadding = true;
        for (var i = 0; i < MaxPaddingPerTick && due > 0; i++)
        {
            var padding = Math.Clamp(due / 4 * 4, 4, ProbeCluster.MaxPacketBytes);
            if (!carrier.SendPadding(padding)) break;
            Host.Metrics.ProbePaddingSent();
            due = _estimator.ProbePaddingDue(nowUs, out _);
        }
        _sendingProbePadding = false;
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
                _peer.OnTrackLayerChanged(consumer.Producer.Id, layer, consumer.LayerCount, paused, reason);
        }
        if (now >= _nextAllocation) Allocate(now);
        SendDueProbe(now);
        if (now >= _nextEstimateSample && Transport.CanSend)
        {
            _nextEstimateSample = now + _estimateSampleInterval;
            Host.Metrics.BandwidthEstimated(_estimator.EstimatedBitrate);
        }
    }

    public void Dispose()
    {
        foreach (var consumer in _dataConsumers.ToArray()) consumer.Dispose();
        foreach (var consumer in _consumers.ToArray()) consumer.Dispose();
        Transport.Dispose();
    }
}
