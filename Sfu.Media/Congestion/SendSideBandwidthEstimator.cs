using Sfu.Media.Rtcp;

namespace Sfu.Media.Congestion;

/// <summary>
/// One subscribe transport's estimate of what its link carries, in the Google Congestion Control way: the
/// transport-wide sequence numbers it stamps (<see cref="History"/>) come back in transport-cc feedback with
/// arrival times; their delay gradient (<see cref="InterArrival"/>, <see cref="TrendlineEstimator"/>,
/// <see cref="OveruseDetector"/>) drives an AIMD rate (<see cref="AimdRateControl"/>), their losses a
/// loss-based rate (<see cref="LossBasedControl"/>), and the estimate is the lower of the two, capped by any
/// REMB the subscriber sends. Without transport-cc, receiver-report loss and REMB are all there is. Probe
/// clusters (<see cref="ProbeController"/>), paced at their rate (<see cref="ProbePacer"/>), find headroom the
/// media alone would never show. A new network
/// path is a new link: <see cref="Restart"/>. Times are µs of the sender's clock. Worker thread only.
/// </summary>
public sealed class SendSideBandwidthEstimator
{
    // Loss is judged over at least this many reported packets, so one lost packet of ten is not "10 % loss".
    private const int LossWindowPackets = 20;
    // Transport-cc feedback this recent makes receiver-report loss redundant (and coarser).
    private const long TransportCcFreshUs = 2_000_000;
    private const long DefaultRttUs = 200_000;
    private const double RttSmoothing = 0.125;
    // How long a probe's result stands for the link's rate when an overuse follows (most likely the probe's own queue).
    private const long ProbeResultFreshUs = 1_000_000;

    private readonly BandwidthEstimatorSettings _settings;
    private readonly InterArrival _interArrival = new();
    private readonly TrendlineEstimator _trendline = new();
    private readonly OveruseDetector _detector = new();
    private readonly AimdRateControl _delayBased;
    private readonly LossBasedControl _lossControl;
    private readonly AcknowledgedBitrate _acknowledged = new();
    private readonly ProbeResultEstimator _probeResults = new();
    private readonly ProbeController _probes;
    private readonly ProbePacer _pacer = new();
    private long _lossBased;
    private long _lastProbeResult;
    private long _lastProbeResultUs = long.MinValue / 2;
    private long _remb;
    private long _rttUs = DefaultRttUs;
    private long _lastTransportCcUs = long.MinValue / 2;
    private bool _hasTransportCc;
    private int _lossReported;
    private int _lossLost;
    private long _referenceUs;
    private int _lastReferenceTime;
    private bool _hasReference;

    public SendSideBandwidthEstimator(BandwidthEstimatorSettings settings, long nowUs)
    {
        _settings = settings;
        _delayBased = new AimdRateControl(settings.StartBitrate, settings.MinBitrate, settings.MaxBitrate);
        _lossControl = new LossBasedControl(settings.MinBitrate, settings.MaxBitrate);
        _probes = new ProbeController(settings.MaxBitrate);
        _lossBased = EstimatedBitrate = settings.StartBitrate;
        _probes.Start(settings.StartBitrate, nowUs);
    }

    /// <summary>What the link is estimated to carry, bits/s.</summary>
    public long EstimatedBitrate { get; private set; }

    /// <summary>
    /// Whether the receiver has ever sent congestion feedback (transport-cc or REMB). A receiver that sends none
    /// cannot be estimated, and its sender should not be held to the start rate forever. Kept across restarts: a new
    /// path starts from the start rate, with feedback still expected.
    /// </summary>
    public bool HasFeedback { get; private set; }

    /// <summary>The rate the receiver reported getting (0 until known).</summary>
    public long AcknowledgedBitrate => _acknowledged.Bitrate;

    /// <summary>Whether a probe cluster is running: packets sent now count toward it.</summary>
    public bool IsProbing => _pacer.IsActive;

    /// <summary>The latest delay-gradient verdict.</summary>
    public BandwidthUsage Usage => _detector.State;

    public SendHistory History { get; } = new();

    /// <summary>Records a packet just sent under <see cref="SendHistory.NextSequenceNumber"/>; while a probe cluster runs, as part of it.</summary>
    public void OnPacketSent(int size, long nowUs) => History.Add(size, nowUs, _pacer.OnSent(size));

    /// <summary>What the allocator would send if the estimate allowed: more than the estimate means probe for it.</summary>
    public void SetDesiredBitrate(long bitrate) => _probes.SetDesiredBitrate(bitrate);

    /// <summary>
    /// Bytes of probe padding to send now (0: none). Ends a cluster whose time is up and starts the next one that is
    /// due; call it on every send opportunity, and again after sending, until it says 0. Packets sent while a
    /// cluster runs (<see cref="OnPacketSent"/>) count toward it, padding and media alike.
    /// </summary>
    /// <param name="started">A new cluster started with this call.</param>
    public int ProbePaddingDue(long nowUs, out bool started)
    {
        started = false;
        if (_pacer.TryEnd(nowUs, out var ended, out var packets)) _probeResults.End(ended, packets);
        if (!_pacer.IsActive && _probes.TryNext(EstimatedBitrate, nowUs, out var cluster))
        {
            _probeResults.Begin(cluster, nowUs);
            _pacer.Start(cluster, nowUs);
            started = true;
        }
        return _pacer.PaddingDue(nowUs);
    }

    public void OnTransportFeedback(in RtcpTransportFeedback feedback, long nowUs)
    {
        var arrivalUs = UnwrapReference(feedback.ReferenceTime);
        int reported = 0, lost = 0;
        var probed = false;
        long latestSendUs = -1, probeResult = 0, probeTarget = 0;
        foreach (var packet in feedback.GetPackets())
        {
            if (!History.TryGet(packet.SequenceNumber, out var sent)) continue;
            reported++;
            if (packet.Received) arrivalUs += packet.DeltaMicroseconds;
            else lost++;
            probed |= sent.ProbeCluster != 0;
            if (sent.ProbeCluster != 0
                && _probeResults.OnFeedback(sent.ProbeCluster, packet.Received, sent.Size, sent.SendTimeUs, arrivalUs, out var result, out var target)
                && result > probeResult)
            {
                probeResult = result;
                probeTarget = target;
            }
            if (!packet.Received) continue;
            _acknowledged.OnPacketAcknowledged(sent.Size, arrivalUs);
            latestSendUs = Math.Max(latestSendUs, sent.SendTimeUs);
            if (_interArrival.TryAdd(sent.SendTimeUs, arrivalUs, out var delta))
            {
                _trendline.Update(delta);
                _detector.Detect(_trendline.Trend, _trendline.DeltaCount, delta.SendDeltaMs, delta.ArrivalTimeUs);
            }
        }
        if (reported == 0) return;
        _hasTransportCc = true;
        HasFeedback = true;
        _lastTransportCcUs = nowUs;
        // Send to feedback: a round trip plus however long the receiver waited to report (up to ~100 ms).
        if (latestSendUs >= 0) _rttUs += (long)(RttSmoothing * (nowUs - latestSendUs - _rttUs));

        if (probeResult > 0)
        {
            _lastProbeResult = probeResult;
            _lastProbeResultUs = nowUs;
        }
        if (probeResult > 0 && _detector.State != BandwidthUsage.Overusing)
        {
            _probes.OnProbeResult(probeResult, probeTarget);
            RaiseTo(probeResult, nowUs);
        }
        else if (probeResult > 0)
        {
            // The probe's own queue makes the delay rise: the link still delivered the probe's rate, so the estimate
            // is at least the cut from it. Ignoring the result left an estimate cut to 85 kbit/s there, behind a link
            // that carried 400.
            _delayBased.Update(_detector.State, Math.Max(_acknowledged.Bitrate, probeResult), _rttUs, nowUs);
            RaiseTo((long)(AimdRateControl.Beta * probeResult), nowUs);
        }
        else if (probed && _detector.State == BandwidthUsage.Overusing)
        {
            // The queue of a probe still being measured: its result will say what the link carries, and a cut now
            // (from the acknowledged rate, only what the media used) would undo what it finds.
        }
        else
        {
            // A probe measured the link just now: an overuse its own queue caused is cut from that measure, not from the
            // rate acknowledged around it, which was only what the media used (behind a 400 kbit/s link each periodic
            // probe otherwise cut the estimate to ~250 kbit/s, the edge of the low layer).
            var throughput = _acknowledged.Bitrate;
            if (nowUs - _lastProbeResultUs < ProbeResultFreshUs) throughput = Math.Max(throughput, _lastProbeResult);
            _delayBased.Update(_detector.State, throughput, _rttUs, nowUs);
        }

        UpdateEstimate(nowUs);

        _lossReported += reported;
        _lossLost += lost;
        if (_lossReported >= LossWindowPackets)
        {
            OnLoss((double)_lossLost / _lossReported, nowUs);
            _lossReported = _lossLost = 0;
        }
    }

    /// <summary>The fraction lost (0-255 scale of RFC 3550) from a receiver report; used while no transport-cc arrives.</summary>
    public void OnReceiverReportLoss(byte fractionLost, long nowUs)
    {
        if (nowUs - _lastTransportCcUs < TransportCcFreshUs) return;
        OnLoss(fractionLost / 256.0, nowUs);
    }

    /// <summary>The subscriber's own estimate (REMB): an upper bound on ours.</summary>
    public void OnRemb(long bitrate, long nowUs)
    {
        _remb = bitrate;
        HasFeedback = true;
        UpdateEstimate(nowUs);
    }

    /// <summary>A new network path: start again from the start rate, learn nothing from the old link, probe at once.</summary>
    public void Restart(long nowUs)
    {
        _interArrival.Reset();
        _trendline.Reset();
        _detector.Reset();
        _delayBased.Reset(_settings.StartBitrate);
        _lossControl.Reset();
        _acknowledged.Reset();
        _probeResults.Reset();
        _pacer.Stop();
        _lastProbeResultUs = long.MinValue / 2;
        _lossBased = EstimatedBitrate = _settings.StartBitrate;
        _remb = 0;
        _hasTransportCc = false;
        _lossReported = _lossLost = 0;
        _rttUs = DefaultRttUs;
        _probes.Start(_settings.StartBitrate, nowUs);
    }

    // A probe showed the link carries this much: neither rate stays below it.
    private void RaiseTo(long bitrate, long nowUs)
    {
        if (bitrate > _delayBased.Bitrate) _delayBased.SetBitrate(bitrate, nowUs);
        _lossBased = Math.Max(_lossBased, bitrate);
    }

    private void OnLoss(double fraction, long nowUs)
    {
        _lossBased = _lossControl.Update(EstimatedBitrate, fraction, _acknowledged.Bitrate, _rttUs, nowUs);
        UpdateEstimate(nowUs);
    }

    private void UpdateEstimate(long nowUs)
    {
        var estimate = _lossBased;
        if (_hasTransportCc) estimate = Math.Min(estimate, _delayBased.Bitrate);
        if (_remb > 0) estimate = Math.Min(estimate, _remb);
        EstimatedBitrate = Math.Clamp(estimate, _settings.MinBitrate, _settings.MaxBitrate);
        _probes.OnEstimate(EstimatedBitrate, nowUs);
    }

    // The 24-bit reference time wraps every ~12 days; receivers may start it anywhere.
    private long UnwrapReference(int referenceTime)
    {
        if (!_hasReference)
        {
            _hasReference = true;
            _referenceUs = 0;
        }
        else
        {
            var step = ((referenceTime - _lastReferenceTime) << 8) >> 8; // signed 24-bit difference
            _referenceUs += step * RtcpTransportFeedback.ReferenceTimeUnitMicroseconds;
        }
        _lastReferenceTime = referenceTime;
        return _referenceUs;
    }
}
