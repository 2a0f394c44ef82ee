using Sfu.Media.Congestion;
using Sfu.Media.Rtcp;

namespace Sfu.Tests.Media.Congestion;

/// <summary>
/// A sender, a bottleneck link and a receiver, on simulated time (1 ms steps): the sender sends 30 frames a
/// second at the estimator's rate (capped by what it wants to send) as bursts of up to 1200-byte packets, and
/// whatever probe clusters the estimator asks for; the link serialises packets at its capacity behind a
/// drop-tail queue (optionally behind a token bucket's burst), adds propagation delay and optionally random loss; the receiver reports arrivals in
/// transport-cc feedback every 50 ms, which reaches the estimator after the propagation delay back.
/// </summary>
internal sealed class BottleneckSimulation
{
    private const long StepUs = 1_000;
    private const long FrameIntervalUs = 33_333;
    private const long TickUs = 20_000;
    private const long FeedbackIntervalUs = 50_000;
    private const int MaxPacketBytes = 1200;
    private const int ProbeHeaderBytes = 28;

    private readonly Random _random = new(7);
    private readonly List<long?> _arrivals = []; // by send index; null = dropped
    private readonly Queue<(long DueUs, byte[] Packet)> _feedbackInFlight = new();
    private ushort _firstSequence;
    private int _nextToReport;
    private long _linkFreeUs;
    private long _tokens;
    private long _tokensAtUs;
    private long _nextFrameUs;
    private long _nextTickUs;
    private long _nextFeedbackUs = FeedbackIntervalUs;
    private byte _feedbackCount;

    public BottleneckSimulation(long capacity, BandwidthEstimatorSettings? settings = null)
    {
        Capacity = capacity;
        Estimator = new SendSideBandwidthEstimator(settings ?? BandwidthEstimatorSettings.Default, 0);
        _firstSequence = Estimator.History.NextSequenceNumber;
    }

    public SendSideBandwidthEstimator Estimator { get; }

    public long NowUs { get; private set; }

    /// <summary>Link capacity, bits/s; change it to throttle or release the link mid-run.</summary>
    public long Capacity { get; set; }

    public long PropagationUs { get; set; } = 25_000;

    /// <summary>Drop-tail queue, in bytes (about 300 ms at 1 Mbit/s by default, like a home router).</summary>
    public int QueueBytes { get; set; } = 40_000;

    public double RandomLoss { get; set; }

    /// <summary>
    /// The bottleneck's token bucket, in bytes (0: a plain serialising link). An idle link saves up this much, and a
    /// burst no larger passes at the sender's pace, as through <c>tc ... tbf burst</c>.
    /// </summary>
    public long BurstBytes { get; set; }

    /// <summary>What the sender's media would use if the estimate allowed (also told to the estimator, for probing).</summary>
    public long DesiredBitrate { get; set; } = 10_000_000;

    /// <summary>
    /// What the media sends whatever the estimate, when set: a subscriber whose video is paused for want of bandwidth
    /// still gets its audio, and only probes can show that the link has room again.
    /// </summary>
    public long? MediaBitrate { get; set; }

    public int ProbePacketsSent { get; private set; }

    /// <summary>The estimate every 100 ms: (time µs, bits/s).</summary>
    public List<(long TimeUs, long Bitrate)> Estimates { get; } = [];

    /// <summary>Queueing delay a packet met at the bottleneck, sampled at each frame: (time µs, delay µs).</summary>
    public List<(long TimeUs, long DelayUs)> QueueDelays { get; } = [];

    public void Run(TimeSpan duration)
    {
        var end = NowUs + (long)(duration.TotalMilliseconds * 1000);
        while (NowUs < end)
        {
            NowUs += StepUs;
            Estimator.SetDesiredBitrate(DesiredBitrate);
            if (NowUs >= _nextFrameUs)
            {
                _nextFrameUs += FrameIntervalUs;
                SendFrame();
            }
            if (NowUs >= _nextTickUs)
            {
                _nextTickUs += TickUs;
                // Paced probes: padding tops each tick up to the running cluster's schedule.
                for (var due = Estimator.ProbePaddingDue(NowUs, out _); due > 0; due = Estimator.ProbePaddingDue(NowUs, out _))
                {
                    Send(Math.Min(due, ProbeCluster.MaxPacketBytes) + ProbeHeaderBytes);
                    ProbePacketsSent++;
                }
            }
            if (NowUs >= _nextFeedbackUs)
            {
                _nextFeedbackUs += FeedbackIntervalUs;
                SendFeedback();
            }
            while (_feedbackInFlight.Count > 0 && _feedbackInFlight.Peek().DueUs <= NowUs)
            {
                var packet = _feedbackInFlight.Dequeue().Packet;
                Assert.That(RtcpTransportFeedback.TryParse(packet, out var feedback), Is.True);
                Estimator.OnTransportFeedback(feedback, NowUs);
            }
            if (NowUs % 100_000 == 0) Estimates.Add((NowUs, Estimator.EstimatedBitrate));
        }
    }

    /// <summary>The mean estimate between two times (seconds from the start).</summary>
    public double MeanEstimate(double fromSeconds, double toSeconds) =>
        Estimates.Where(e => e.TimeUs >= fromSeconds * 1e6 && e.TimeUs < toSeconds * 1e6).Average(e => (double)e.Bitrate);

    public long MaxEstimate(double fromSeconds, double toSeconds) =>
        Estimates.Where(e => e.TimeUs >= fromSeconds * 1e6 && e.TimeUs < toSeconds * 1e6).Max(e => e.Bitrate);

    public long MaxQueueDelayUs(double fromSeconds, double toSeconds) =>
        QueueDelays.Where(e => e.TimeUs >= fromSeconds * 1e6 && e.TimeUs < toSeconds * 1e6).Max(e => e.DelayUs);

    private void SendFrame()
    {
        QueueDelays.Add((NowUs, Math.Max(0, _linkFreeUs - NowUs)));
        var bytes = (int)((MediaBitrate ?? Math.Min(Estimator.EstimatedBitrate, DesiredBitrate)) / 30 / 8);
        while (bytes > 0)
        {
            var size = Math.Min(bytes, MaxPacketBytes);
            Send(size);
            bytes -= size;
        }
    }

    private void Send(int size)
    {
        Estimator.OnPacketSent(size, NowUs);
        var queuedBytes = Math.Max(0, _linkFreeUs - NowUs) * Capacity / 8 / 1_000_000;
        if (queuedBytes + size > QueueBytes || _random.NextDouble() < RandomLoss)
        {
            _arrivals.Add(null);
            return;
        }
        long departUs;
        if (_linkFreeUs > NowUs)
        {
            // Behind a backlog the bucket is empty: each packet waits for its own tokens.
            departUs = _linkFreeUs + (size * 8L * 1_000_000 / Capacity);
        }
        else
        {
            var tokens = Math.Min(BurstBytes, _tokens + ((NowUs - _tokensAtUs) * Capacity / 8 / 1_000_000));
            departUs = tokens >= size ? NowUs : NowUs + ((size - tokens) * 8L * 1_000_000 / Capacity);
            _tokens = tokens >= size ? tokens - size : 0;
        }
        if (departUs > NowUs) _tokens = 0;
        _tokensAtUs = departUs;
        _linkFreeUs = departUs;
        _arrivals.Add(departUs + PropagationUs);
    }

    // Reports everything up to the newest packet that has arrived by now; earlier ones not there are lost.
    private void SendFeedback()
    {
        var last = -1;
        for (var i = _arrivals.Count - 1; i >= _nextToReport; i--)
        {
            if (_arrivals[i] is { } arrival && arrival <= NowUs)
            {
                last = i;
                break;
            }
        }
        if (last < 0) return;
        var reported = _arrivals.GetRange(_nextToReport, last - _nextToReport + 1);
        var packet = TransportFeedbackBuilder.FromArrivals((ushort)(_firstSequence + _nextToReport), reported, _feedbackCount++);
        _feedbackInFlight.Enqueue((NowUs + PropagationUs, packet));
        _nextToReport = last + 1;
    }
}
