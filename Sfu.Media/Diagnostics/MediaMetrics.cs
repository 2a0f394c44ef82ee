using System.Diagnostics.Metrics;

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
    Count,
}

/// <summary>
/// Media plane figures. The packet path only increments plain fields (it runs on the media worker's single
/// thread); observable instruments read them at scrape time, so counting costs nothing per packet beyond an add.
/// Rare events (handshakes, rebinds) use ordinary counters.
/// </summary>
public sealed class MediaMetrics
{
    public const string MeterName = "Sfu.Media";

    private static readonly string[] DropLabels = ["malformed", "unknown-source", "auth-failure", "srtp-failure", "replay", "not-connected", "unknown-stream", "send-failed"];

    private readonly long[] _dropped = new long[(int)DropReason.Count];
    private readonly Counter<long> _dtlsHandshakes;
    private readonly Counter<long> _rebinds;
    private readonly Counter<long> _refusedRebinds;
    private readonly Counter<long> _iceRestarts;
    private readonly Counter<long> _consentExpired;
    private readonly Histogram<double> _recoveryTime;
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
    private long _transportCcSent;
    private long _rembSent;
    private long _activeTransports;
    private long _workerAllocated;

    public MediaMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableCounter("sfu.media.packets.received", () => Volatile.Read(ref _packetsIn), description: "UDP datagrams received on the media port.");
        meter.CreateObservableCounter("sfu.media.bytes.received", () => Volatile.Read(ref _bytesIn), description: "Bytes received on the media port.");
        meter.CreateObservableCounter("sfu.media.packets.sent", () => Volatile.Read(ref _packetsOut), description: "UDP datagrams sent from the media port.");
        meter.CreateObservableCounter("sfu.media.bytes.sent", () => Volatile.Read(ref _bytesOut), description: "Bytes sent from the media port.");
        meter.CreateObservableCounter("sfu.media.rtp.forwarded", () => Volatile.Read(ref _forwarded), description: "RTP packets forwarded to subscribers.");
        meter.CreateObservableCounter("sfu.media.dropped", ObserveDrops, description: "Datagrams or packets dropped, by reason.");
        meter.CreateObservableCounter("sfu.media.nacks.received", () => Volatile.Read(ref _nacksReceived), description: "Generic NACK feedback packets received from subscribers.");
        meter.CreateObservableCounter("sfu.media.retransmissions", () => Volatile.Read(ref _retransmitted), description: "Packets re-sent (RTX or plain) in answer to NACKs.");
        meter.CreateObservableCounter("sfu.media.keyframe.requests.sent", () => Volatile.Read(ref _plisSent), description: "PLIs sent to publishers.");
        meter.CreateObservableCounter("sfu.media.keyframe.requests.received", () => Volatile.Read(ref _keyframeRequestsReceived), description: "PLI/FIR received from subscribers.");
        meter.CreateObservableCounter("sfu.media.remb.received", () => Volatile.Read(ref _rembReceived), description: "REMB feedback received.");
        meter.CreateObservableCounter("sfu.media.transport_cc.received", () => Volatile.Read(ref _transportCcReceived), description: "Transport-wide congestion control feedback received.");
        meter.CreateObservableCounter("sfu.media.feedback.sent", ObserveFeedbackSent, description: "Congestion control feedback packets sent to publishers, by type (transport-cc, remb).");
        meter.CreateObservableCounter("sfu.media.worker.allocated.bytes", () => Volatile.Read(ref _workerAllocated),
            description: "Bytes allocated on the media worker thread since it started, sampled every tick; divided by forwarded packets, the hot path's allocation per packet.");
        meter.CreateObservableGauge("sfu.media.transports", () => Volatile.Read(ref _activeTransports), description: "Open WebRTC transports.");
        _dtlsHandshakes = meter.CreateCounter<long>("sfu.media.dtls.handshakes", description: "DTLS handshakes, by result.");
        _rebinds = meter.CreateCounter<long>("sfu.media.rebinds", description: "Transports that moved to a new client address, by direction and trigger.");
        _refusedRebinds = meter.CreateCounter<long>("sfu.media.rebinds.refused", description: "Attempts to move a transport that were refused, by reason.");
        _iceRestarts = meter.CreateCounter<long>("sfu.media.ice.restarts", description: "ICE restarts, by direction.");
        _consentExpired = meter.CreateCounter<long>("sfu.media.consent.expired", description: "Transport paths whose ICE consent lapsed.");
        _recoveryTime = meter.CreateHistogram("sfu.media.recovery.time", unit: "s",
            description: "Time from the first verified check from a new client address to the first media packet sent there.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5] });
    }

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

    internal void Forwarded() => _forwarded++;

    internal void NackReceived() => _nacksReceived++;

    internal void Retransmitted() => _retransmitted++;

    internal void KeyframeRequestSent() => _plisSent++;

    internal void KeyframeRequestReceived() => _keyframeRequestsReceived++;

    internal void RembReceived() => _rembReceived++;

    internal void TransportCcReceived() => _transportCcReceived++;

    internal void TransportCcSent() => _transportCcSent++;

    internal void RembSent() => _rembSent++;

    /// <summary>The worker thread's own <see cref="GC.GetAllocatedBytesForCurrentThread"/>, which no other thread can read.</summary>
    internal void WorkerAllocated(long bytes) => Volatile.Write(ref _workerAllocated, bytes);

    internal void TransportOpened() => Interlocked.Increment(ref _activeTransports);

    internal void TransportClosed() => Interlocked.Decrement(ref _activeTransports);

    internal void DtlsHandshake(string result) => _dtlsHandshakes.Add(1, new KeyValuePair<string, object?>("result", result));

    internal void Rebind(string direction, string trigger) =>
        _rebinds.Add(1, new KeyValuePair<string, object?>("direction", direction), new KeyValuePair<string, object?>("trigger", trigger));

    internal void RebindRefused(string reason) => _refusedRebinds.Add(1, new KeyValuePair<string, object?>("reason", reason));

    internal void IceRestart(string direction) => _iceRestarts.Add(1, new KeyValuePair<string, object?>("direction", direction));

    internal void ConsentExpired() => _consentExpired.Add(1);

    internal void Recovered(TimeSpan elapsed) => _recoveryTime.Record(elapsed.TotalSeconds);

    private IEnumerable<Measurement<long>> ObserveFeedbackSent()
    {
        yield return new Measurement<long>(Volatile.Read(ref _transportCcSent), new KeyValuePair<string, object?>("type", "transport-cc"));
        yield return new Measurement<long>(Volatile.Read(ref _rembSent), new KeyValuePair<string, object?>("type", "remb"));
    }

    private IEnumerable<Measurement<long>> ObserveDrops()
    {
        for (var i = 0; i < DropLabels.Length; i++)
            yield return new Measurement<long>(Volatile.Read(ref _dropped[i]), new KeyValuePair<string, object?>("reason", DropLabels[i]));
    }
}
