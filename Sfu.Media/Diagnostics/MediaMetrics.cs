using Prometheus;
using Sfu.Media.IceTcp;
using Sfu.Media.Transports;
using Sfu.Media.Routing;

namespace Sfu.Media.Diagnostics;

/// <summary>Why a datagram or packet was not used. Each is a label value of <c>sfu.media.dropped</c>.</summary>
public enum DropReason
{
    Malformed,
    UnknownSource,
    AuthFailure,
    SrtpFailure,
    Replay,
    NotConnected,
    UnknownStream,
    SendFailed,

    /// <summary>A NACKed packet not re-sent: sent again within the last round trip, or too old.</summary>
    NackThrottled,
    Count,
}

/// <summary>
/// Media plane figures, as Prometheus metrics in the server's registry. The packet path only increments plain
/// fields (it runs on the media worker's single thread); the registry copies them into their counters when it is
/// scraped, so counting costs nothing per packet beyond an add (docs/BENCHMARKS.md, metrics). Rare events
/// (handshakes, rebinds) use the counters directly. Every series exists, at 0, from start-up.
/// </summary>
public sealed class MediaMetrics
{
    private static readonly string[] DropLabels = ["malformed", "unknown-source", "auth-failure", "srtp-failure", "replay", "not-connected", "unknown-stream", "send-failed", "nack-throttled"];
    private static readonly string[] Directions = ["publish", "subscribe"];
    private static readonly string[] RebindTriggers = ["nominated", "silent-path", "consent", "restored"];

    private readonly long[] _dropped = new long[(int)DropReason.Count];
    private readonly LabelledCounter _dtlsHandshakes;
    private readonly Counter _rebinds;
    private readonly LabelledCounter _refusedRebinds;
    private readonly LabelledCounter _iceRestarts;
    private readonly Counter _consentExpired;
    private readonly Histogram _recoveryTime;
    private readonly Histogram _residence;
    private readonly Gauge _transports;
    private readonly Histogram _bandwidthEstimate;
    private readonly Counter _estimateRestarts;
    private readonly IceTcpMetrics _tcp;
    private long _packetsIn;
    private long _bytesIn;
    private long _packetsOut;
    private long _bytesOut;
    private long _forwarded;
    private long _nacksReceived;
    private long _retransmitted;
    private long _plisSent;
    private long _keyframeRequestsReceived;
    private long _rembReceived;
    private long _transportCcReceived;
    private readonly long[] _layerChanges = new long[LayerChangeReasons.All.Length];
    private long _pausedConsumers;
    private long _probeClustersSent;
    private long _transportCcSent;
    private long _rembSent;
    private long _probePacketsSent;
    private long _workerAllocated;

    public MediaMetrics(CollectorRegistry registry)
    {
        var factory = MetricFactories.For(registry);
        var copies = new List<Action>();
        void Sampled(string name, string help, Func<long> read)
        {
            var counter = factory.CreateCounter(name, help);
            copies.Add(() => counter.IncTo(read()));
        }
        Sampled("sfu_media_packets_received_total", "UDP datagrams received on the media port.", () => Volatile.Read(ref _packetsIn));
        Sampled("sfu_media_bytes_received_total", "Bytes received on the media port.", () => Volatile.Read(ref _bytesIn));
        Sampled("sfu_media_packets_sent_total", "UDP datagrams sent from the media port.", () => Volatile.Read(ref _packetsOut));
        Sampled("sfu_media_bytes_sent_total", "Bytes sent from the media port.", () => Volatile.Read(ref _bytesOut));
        Sampled("sfu_media_rtp_forwarded_total", "RTP packets forwarded to subscribers.", () => Volatile.Read(ref _forwarded));
        Sampled("sfu_media_nacks_received_total", "Generic NACK feedback packets received from subscribers.", () => Volatile.Read(ref _nacksReceived));
        Sampled("sfu_media_retransmissions_total", "Packets re-sent (RTX or plain) in answer to NACKs.", () => Volatile.Read(ref _retransmitted));
        Sampled("sfu_media_keyframe_requests_sent_total", "PLIs sent to publishers.", () => Volatile.Read(ref _plisSent));
        Sampled("sfu_media_keyframe_requests_received_total", "PLI/FIR received from subscribers.", () => Volatile.Read(ref _keyframeRequestsReceived));
        Sampled("sfu_media_remb_received_total", "REMB feedback received.", () => Volatile.Read(ref _rembReceived));
        Sampled("sfu_media_transport_cc_received_total", "Transport-wide congestion control feedback received.", () => Volatile.Read(ref _transportCcReceived));
        Sampled("sfu_media_worker_allocated_bytes_total",
            "Bytes allocated on the media worker thread since it started, sampled every tick; divided by forwarded packets, the hot path's allocation per packet.",
            () => Volatile.Read(ref _workerAllocated));
        Sampled("sfu_media_probe_clusters_sent_total", "Bandwidth probe clusters sent to subscribers.", () => Volatile.Read(ref _probeClustersSent));
        Sampled("sfu_media_probe_packets_sent_total", "Padding packets sent in bandwidth probe clusters.", () => Volatile.Read(ref _probePacketsSent));
        var feedbackSent = factory.CreateCounter("sfu_media_feedback_sent_total",
            "Congestion control feedback packets sent to publishers, by type (transport-cc, remb).", ["type"]);
        var transportCcSent = feedbackSent.WithLabels("transport-cc");
        var rembSent = feedbackSent.WithLabels("remb");
        copies.Add(() => transportCcSent.IncTo(Volatile.Read(ref _transportCcSent)));
        copies.Add(() => rembSent.IncTo(Volatile.Read(ref _rembSent)));
        var layerSwitches = factory.CreateCounter("sfu_media_layer_switches_total",
            "Changes of the layer a consumer forwards (or pausing it), by reason: bandwidth, cap (subscriber preferences), layer-lost.", ["reason"]);
        foreach (var reason in LayerChangeReasons.All)
        {
            var child = layerSwitches.WithLabels(reason.Label());
            copies.Add(() => child.IncTo(Volatile.Read(ref _layerChanges[(int)reason])));
        }
        var paused = factory.CreateGauge("sfu_media_consumers_paused",
            "Consumers sending nothing: paused by their subscriber or because their lowest layer does not fit the bandwidth.");
        copies.Add(() => paused.Set(Volatile.Read(ref _pausedConsumers)));
        var dropped = factory.CreateCounter("sfu_media_dropped_total", "Datagrams or packets dropped, by reason.", ["reason"]);
        for (var i = 0; i < DropLabels.Length; i++)
        {
            var reason = i;
            var child = dropped.WithLabels(DropLabels[reason]);
            copies.Add(() => child.IncTo(Volatile.Read(ref _dropped[reason])));
        }
        registry.AddBeforeCollectCallback(() =>
        {
            foreach (var copy in copies) copy();
        });

        _transports = factory.CreateGauge("sfu_media_transports", "Open WebRTC transports.");
        _dtlsHandshakes = new LabelledCounter(factory, "sfu_media_dtls_handshakes_total", "DTLS handshakes, by result.", "result", ["ok", "failed"]);
        _rebinds = factory.CreateCounter("sfu_media_rebinds_total", "Transports that moved to a new client address, by direction and trigger.", ["direction", "trigger"]);
        foreach (var direction in Directions)
        {
            foreach (var trigger in RebindTriggers) _rebinds.WithLabels(direction, trigger);
        }
        _refusedRebinds = new LabelledCounter(factory, "sfu_media_rebinds_refused_total", "Attempts to move a transport that were refused, by reason.", "reason",
            ["wrong-credentials", "unauthenticated"]);
        _iceRestarts = new LabelledCounter(factory, "sfu_media_ice_restarts_total", "ICE restarts, by direction.", "direction", Directions);
        _consentExpired = factory.CreateCounter("sfu_media_consent_expired_total", "Transport paths whose ICE consent lapsed.");
        _bandwidthEstimate = factory.CreateHistogram("sfu_media_bandwidth_estimate",
            "Subscriber transports' bandwidth estimates (bit/s), sampled once a second per connected transport.",
            new HistogramConfiguration { Buckets = [100_000, 250_000, 500_000, 1_000_000, 2_000_000, 4_000_000, 8_000_000, 16_000_000] });
        _estimateRestarts = factory.CreateCounter("sfu_media_bandwidth_estimate_restarts_total",
            "Subscriber bandwidth estimates started afresh on a new path or an ICE restart.");
        _tcp = new IceTcpMetrics(factory);
        DataChannels = new DataChannelMetrics(registry);
        _recoveryTime = factory.CreateHistogram("sfu_media_recovery_time_seconds",
            "Time from the first verified check from a new client address to the first media packet sent there.",
            new HistogramConfiguration { Buckets = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5] });
        // Fine enough between 50 µs and 50 ms that a p99 read off the buckets (the load tool does) lands within a
        // third of its value; what is above 50 ms is a stalled worker, and one bucket says so.
        _residence = factory.CreateHistogram("sfu_media_residence_seconds",
            "Per media worker loop turn that received datagrams: from the kernel's receive stamp of the turn's earliest datagram to the end "
            + "of the turn's last flush of sends, the longest any of them stayed in the server.",
            new HistogramConfiguration
            {
                Buckets = [0.00005, 0.0001, 0.0002, 0.0003, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05],
            });
    }

    /// <summary>SCTP and data channel figures, summed over transports.</summary>
    public DataChannelMetrics DataChannels { get; }

    internal void Received(int bytes)
    {
        _packetsIn++;
        _bytesIn += bytes;
    }

    internal void Sent(int bytes)
    {
        _packetsOut++;
        _bytesOut += bytes;
    }

    internal void Dropped(DropReason reason) => _dropped[(int)reason]++;

    internal long DroppedCount(DropReason reason) => Volatile.Read(ref _dropped[(int)reason]);

    internal long PacketsSent => Volatile.Read(ref _packetsOut);

    internal long BytesSent => Volatile.Read(ref _bytesOut);

    internal void Forwarded() => _forwarded++;

    internal void NackReceived() => _nacksReceived++;

    internal void Retransmitted() => _retransmitted++;

    internal void KeyframeRequestSent() => _plisSent++;

    internal void KeyframeRequestReceived() => _keyframeRequestsReceived++;

    internal void RembReceived() => _rembReceived++;

    internal void TransportCcReceived() => _transportCcReceived++;

    internal void TransportCcSent() => _transportCcSent++;

    internal void RembSent() => _rembSent++;

    internal void ProbeClusterStarted() => _probeClustersSent++;

    internal void ProbePaddingSent() => _probePacketsSent++;

    internal void BandwidthEstimated(long bitrate) => _bandwidthEstimate.Observe(bitrate);

    internal void EstimateRestarted() => _estimateRestarts.Inc();

    internal void LayerChanged(LayerChangeReason reason) => _layerChanges[(int)reason]++;

    internal long LayerChangeCount(LayerChangeReason reason) => Volatile.Read(ref _layerChanges[(int)reason]);

    internal void ConsumerPaused(bool paused) => _pausedConsumers += paused ? 1 : -1;

    /// <summary>The worker thread's own <see cref="GC.GetAllocatedBytesForCurrentThread"/>, which no other thread can read.</summary>
    internal void WorkerAllocated(long bytes) => Volatile.Write(ref _workerAllocated, bytes);

    internal void TransportOpened() => _transports.Inc();

    internal void TransportClosed() => _transports.Dec();

    internal void DtlsHandshake(string result) => _dtlsHandshakes.Inc(result);

    internal void Rebind(string direction, string trigger) => _rebinds.WithLabels(direction, trigger).Inc();

    internal void RebindRefused(string reason) => _refusedRebinds.Inc(reason);

    internal void IceRestart(string direction) => _iceRestarts.Inc(direction);

    internal void ConsentExpired() => _consentExpired.Inc();

    internal void Recovered(TimeSpan elapsed) => _recoveryTime.Observe(elapsed.TotalSeconds);

    /// <summary>One loop turn's residence: its earliest arrival to the end of its flush. Once per turn, never per packet.</summary>
    internal void TurnFlushed(TimeSpan sinceEarliestArrival) => _residence.Observe(sinceEarliestArrival.TotalSeconds);

    internal void TcpConnectionAccepted() => _tcp.Accepted();

    internal void TcpConnectionVerified() => _tcp.Verified();

    internal void TcpConnectionClosed(bool verified) => _tcp.Closed(verified);

    internal void TcpRefused(IceTcpRefusal reason) => _tcp.Refused(reason);

    internal void TcpFrameDropped(IceTcpFrameDrop reason) => _tcp.FrameDropped(reason);

    internal void TcpPathClosed() => _tcp.PathClosed();

    internal void SelectedPathOpened(PathProtocol protocol) => _tcp.SelectedPathOpened(protocol);

    internal void SelectedPathClosed(PathProtocol protocol) => _tcp.SelectedPathClosed(protocol);

    internal void PathProtocolSwitched(PathProtocol from, PathProtocol to) => _tcp.ProtocolSwitched(from, to);
}
