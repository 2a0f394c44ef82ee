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

    /// <summary>A packet for another worker's subscribers not written: the pipe to that worker was full.</summary>
    PipeFull,

    /// <summary>A publisher's retransmission (RTX) of a packet that was not missing: a duplicate, given up, or a probe.</summary>
    UnrequestedRetransmission,
    Count,
}

/// <summary>
/// Media plane figures, as Prometheus metrics in the server's registry. The packet path only increments plain
/// fields of its own worker's <see cref="MediaMetrics"/> (<see cref="ForWorker"/>: one per media worker thread, so no
/// two threads ever add to one field); the registry sums every worker's fields into their counters when it is scraped,
/// so counting costs nothing per packet beyond an add (docs/BENCHMARKS.md, metrics). Rare events (handshakes, rebinds)
/// use the thread-safe counters directly. Every series exists, at 0, from start-up.
/// </summary>
public sealed class MediaMetrics
{
    private static readonly string[] DropLabels = ["malformed", "unknown-source", "auth-failure", "srtp-failure", "replay", "not-connected", "unknown-stream", "send-failed", "nack-throttled", "pipe-full", "rtx-unrequested"];
    private static readonly string[] Directions = ["publish", "subscribe"];
    private static readonly string[] RebindTriggers = ["nominated", "silent-path", "consent", "restored"];

    private readonly WorkerCounterSet _all;
    private readonly WorkerCounters _own;
    private readonly LabelledCounter _dtlsHandshakes;
    private readonly Counter _rebinds;
    private readonly LabelledCounter _refusedRebinds;
    private readonly LabelledCounter _iceRestarts;
    private readonly Counter _consentExpired;
    private readonly Histogram _recoveryTime;
    private readonly Histogram _residence;
    private readonly Histogram _timerTurn;
    private readonly Gauge _transports;
    private readonly Histogram _bandwidthEstimate;
    private readonly Counter _estimateRestarts;
    private readonly IceTcpMetrics _tcp;

    public MediaMetrics(CollectorRegistry registry)
    {
        _all = new WorkerCounterSet();
        _own = _all.Add();
        var factory = MetricFactories.For(registry);
        var copies = new List<Action>();
        void Sampled(string name, string help, Func<long> read)
        {
            var counter = factory.CreateCounter(name, help);
            copies.Add(() => counter.IncTo(read()));
        }
        Sampled("sfu_media_packets_received_total", "UDP datagrams received on the media port.", () => _all.Sum(static c => Volatile.Read(ref c.PacketsIn)));
        Sampled("sfu_media_bytes_received_total", "Bytes received on the media port.", () => _all.Sum(static c => Volatile.Read(ref c.BytesIn)));
        Sampled("sfu_media_packets_sent_total", "UDP datagrams sent from the media port.", () => _all.Sum(static c => Volatile.Read(ref c.PacketsOut)));
        Sampled("sfu_media_bytes_sent_total", "Bytes sent from the media port.", () => _all.Sum(static c => Volatile.Read(ref c.BytesOut)));
        Sampled("sfu_media_rtp_forwarded_total", "RTP packets forwarded to subscribers.", () => _all.Sum(static c => Volatile.Read(ref c.Forwarded)));
        Sampled("sfu_media_nacks_received_total", "Generic NACK feedback packets received from subscribers.", () => _all.Sum(static c => Volatile.Read(ref c.NacksReceived)));
        Sampled("sfu_media_retransmissions_total", "Packets re-sent (RTX or plain) in answer to NACKs.", () => _all.Sum(static c => Volatile.Read(ref c.Retransmitted)));
        Sampled("sfu_media_keyframe_requests_sent_total", "PLIs sent to publishers.", () => _all.Sum(static c => Volatile.Read(ref c.PlisSent)));
        Sampled("sfu_media_keyframe_requests_received_total", "PLI/FIR received from subscribers.", () => _all.Sum(static c => Volatile.Read(ref c.KeyframeRequestsReceived)));
        Sampled("sfu_media_remb_received_total", "REMB feedback received.", () => _all.Sum(static c => Volatile.Read(ref c.RembReceived)));
        Sampled("sfu_media_transport_cc_received_total", "Transport-wide congestion control feedback received.", () => _all.Sum(static c => Volatile.Read(ref c.TransportCcReceived)));
        Sampled("sfu_media_worker_allocated_bytes_total",
            "Bytes allocated on the media worker thread since it started, sampled every tick; divided by forwarded packets, the hot path's allocation per packet.",
            () => _all.Sum(static c => Volatile.Read(ref c.WorkerAllocated)));
        Sampled("sfu_media_probe_clusters_sent_total", "Bandwidth probe clusters sent to subscribers.", () => _all.Sum(static c => Volatile.Read(ref c.ProbeClustersSent)));
        Sampled("sfu_media_probe_packets_sent_total", "Padding packets sent in bandwidth probe clusters.", () => _all.Sum(static c => Volatile.Read(ref c.ProbePacketsSent)));
        var feedbackSent = factory.CreateCounter("sfu_media_feedback_sent_total",
            "Congestion control feedback packets sent to publishers, by type (transport-cc, remb).", ["type"]);
        var transportCcSent = feedbackSent.WithLabels("transport-cc");
        var rembSent = feedbackSent.WithLabels("remb");
        copies.Add(() => transportCcSent.IncTo(_all.Sum(static c => Volatile.Read(ref c.TransportCcSent))));
        copies.Add(() => rembSent.IncTo(_all.Sum(static c => Volatile.Read(ref c.RembSent))));
        var layerSwitches = factory.CreateCounter("sfu_media_layer_switches_total",
            "Changes of the layer a consumer forwards (or pausing it), by reason: bandwidth, cap (subscriber preferences), layer-lost (including a lower layer standing in for one that stopped).", ["reason"]);
        foreach (var reason in LayerChangeReasons.All)
        {
            var child = layerSwitches.WithLabels(reason.Label());
            copies.Add(() => child.IncTo(_all.Sum(c => Volatile.Read(ref c.LayerChanges[(int)reason]))));
        }
        var paused = factory.CreateGauge("sfu_media_consumers_paused",
            "Consumers sending nothing: paused by their subscriber or because their lowest layer does not fit the bandwidth.");
        copies.Add(() => paused.Set(_all.Sum(static c => Volatile.Read(ref c.PausedConsumers))));
        var dropped = factory.CreateCounter("sfu_media_dropped_total", "Datagrams or packets dropped, by reason.", ["reason"]);
        for (var i = 0; i < DropLabels.Length; i++)
        {
            var reason = i;
            var child = dropped.WithLabels(DropLabels[reason]);
            copies.Add(() => child.IncTo(_all.Sum(c => Volatile.Read(ref c.Dropped[reason]))));
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
        UplinkRepair = new UplinkRepairMetrics(registry);
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
                Buckets = ResidenceBuckets,
            });
        // Timers run between datagrams: a long timer turn is time every datagram arriving meanwhile waits.
        _timerTurn = factory.CreateHistogram("sfu_media_timer_turn_seconds",
            "Per media worker timer turn (every 20 ms): how long the worker spent running its transports' timers.",
            new HistogramConfiguration { Buckets = ResidenceBuckets });
    }

    private static readonly double[] ResidenceBuckets =
        [0.00005, 0.0001, 0.0002, 0.0003, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05];

    /// <summary>SCTP and data channel figures, summed over transports.</summary>
    public DataChannelMetrics DataChannels { get; }

    /// <summary>NACKs to publishers and what they recovered, over every worker.</summary>
    public UplinkRepairMetrics UplinkRepair { get; }

    /// <summary>
    /// The same series, counted by one more media worker thread: its packet-path figures go to fields of its own,
    /// which a scrape adds to every other worker's. The thread-safe counters (handshakes, rebinds, ...) are shared.
    /// </summary>
    public MediaMetrics ForWorker() => new(this);

    private MediaMetrics(MediaMetrics first)
    {
        _all = first._all;
        _own = _all.Add();
        _dtlsHandshakes = first._dtlsHandshakes;
        _rebinds = first._rebinds;
        _refusedRebinds = first._refusedRebinds;
        _iceRestarts = first._iceRestarts;
        _consentExpired = first._consentExpired;
        _recoveryTime = first._recoveryTime;
        _residence = first._residence;
        _timerTurn = first._timerTurn;
        _transports = first._transports;
        _bandwidthEstimate = first._bandwidthEstimate;
        _estimateRestarts = first._estimateRestarts;
        _tcp = first._tcp;
        DataChannels = first.DataChannels;
        UplinkRepair = first.UplinkRepair;
    }

    internal void Received(int bytes)
    {
        _own.PacketsIn++;
        _own.BytesIn += bytes;
    }

    internal void Sent(int bytes)
    {
        _own.PacketsOut++;
        _own.BytesOut += bytes;
    }

    internal void Dropped(DropReason reason) => _own.Dropped[(int)reason]++;

    /// <summary>Summed over every worker, like the scraped series.</summary>
    internal long DroppedCount(DropReason reason) => _all.Sum(c => Volatile.Read(ref c.Dropped[(int)reason]));

    internal long PacketsSent => _all.Sum(static c => Volatile.Read(ref c.PacketsOut));

    internal long BytesSent => _all.Sum(static c => Volatile.Read(ref c.BytesOut));

    internal void Forwarded() => _own.Forwarded++;

    internal void NackReceived() => _own.NacksReceived++;

    internal void Retransmitted() => _own.Retransmitted++;

    internal void KeyframeRequestSent() => _own.PlisSent++;

    internal void KeyframeRequestReceived() => _own.KeyframeRequestsReceived++;

    internal void RembReceived() => _own.RembReceived++;

    internal void TransportCcReceived() => _own.TransportCcReceived++;

    internal void TransportCcSent() => _own.TransportCcSent++;

    internal void RembSent() => _own.RembSent++;

    internal void ProbeClusterStarted() => _own.ProbeClustersSent++;

    internal void ProbePaddingSent() => _own.ProbePacketsSent++;

    internal void BandwidthEstimated(long bitrate) => _bandwidthEstimate.Observe(bitrate);

    internal void EstimateRestarted() => _estimateRestarts.Inc();

    internal void LayerChanged(LayerChangeReason reason) => _own.LayerChanges[(int)reason]++;

    internal long LayerChangeCount(LayerChangeReason reason) => _all.Sum(c => Volatile.Read(ref c.LayerChanges[(int)reason]));

    internal void ConsumerPaused(bool paused) => _own.PausedConsumers += paused ? 1 : -1;

    /// <summary>The worker thread's own <see cref="GC.GetAllocatedBytesForCurrentThread"/>, which no other thread can read.</summary>
    internal void WorkerAllocated(long bytes) => Volatile.Write(ref _own.WorkerAllocated, bytes);

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

    /// <summary>One timer turn's duration. Once per 20 ms tick.</summary>
    internal void TimersRan(TimeSpan duration) => _timerTurn.Observe(duration.TotalSeconds);

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

/// <summary>One media worker's packet-path figures: plain fields only its own thread adds to.</summary>
internal sealed class WorkerCounters
{
    public long PacketsIn;
    public long BytesIn;
    public long PacketsOut;
    public long BytesOut;
    public long Forwarded;
    public long NacksReceived;
    public long Retransmitted;
    public long PlisSent;
    public long KeyframeRequestsReceived;
    public long RembReceived;
    public long TransportCcReceived;
    public long TransportCcSent;
    public long RembSent;
    public long ProbeClustersSent;
    public long ProbePacketsSent;
    public long PausedConsumers;
    public long WorkerAllocated;
    public readonly long[] Dropped = new long[(int)DropReason.Count];
    public readonly long[] LayerChanges = new long[LayerChangeReasons.All.Length];
}

/// <summary>Every worker's <see cref="WorkerCounters"/>, summed for a scrape. Workers join at start-up; a scrape may run on any thread.</summary>
internal sealed class WorkerCounterSet
{
    private readonly Lock _adding = new();
    private WorkerCounters[] _workers = [];

    public WorkerCounters Add()
    {
        var counters = new WorkerCounters();
        lock (_adding) _workers = [.. _workers, counters];
        return counters;
    }

    public long Sum(Func<WorkerCounters, long> read)
    {
        long total = 0;
        foreach (var worker in Volatile.Read(ref _workers)) total += read(worker);
        return total;
    }
}
