using Sfu.Media.Rtcp;
using Sfu.Media.Routing;
using Sfu.Media.Rtp;
using Sfu.Media.Sdp;
using Sfu.Media.Transports;
using Sfu.Media.Worker;
using SdpFeedback = Sfu.Media.Sdp.RtcpFeedback;

namespace Sfu.Media.Congestion;

/// <summary>
/// What a publisher's congestion controller needs to hear from the server about its publish transport. With the
/// transport-wide sequence number extension negotiated: transport-cc feedback on every packet (see
/// <see cref="TransportCcFeedbackRecorder"/>), and, where goog-remb was negotiated too, a REMB of the ceiling once a
/// second, which caps the sender's own estimate. With goog-remb alone: a REMB of the server's receive-side estimate
/// (<see cref="RemoteEstimator"/>) once a second. Worker thread only.
/// </summary>
public sealed class PublisherFeedback
{
    /// <summary>
    /// Bound of one feedback packet: fits the smallest IPv6 MTU (1280) with IP and UDP headers and SRTCP's overhead.
    /// </summary>
    public const int MaxFeedbackLength = 1280 - 40 - 8 - WebRtcTransport.MaxProtectionOverhead;

    private static readonly TimeSpan RembInterval = TimeSpan.FromSeconds(1);

    private readonly IMediaHost _worker;
    private readonly WebRtcTransport _transport;
    private readonly uint _rtcpSsrc;
    private readonly IReadOnlyList<Producer> _producers;
    private readonly ReceiveRateMeter _rate;
    private readonly RemoteEstimator _estimator;
    private readonly long _rembInterval;
    private TransportCcFeedbackRecorder? _transportCc;
    private int _transportCcId;
    private bool _remb;
    private long _nextRemb;
    private long _expected;
    private long _received;

    internal PublisherFeedback(IMediaHost worker, WebRtcTransport transport, uint rtcpSsrc, IReadOnlyList<Producer> producers)
    {
        _worker = worker;
        _transport = transport;
        _rtcpSsrc = rtcpSsrc;
        _producers = producers;
        _rate = new ReceiveRateMeter(worker.Time.TimestampFrequency);
        _estimator = new RemoteEstimator(MaxBitrate);
        _rembInterval = (long)(RembInterval.TotalSeconds * worker.Time.TimestampFrequency);
    }

    /// <summary>The ceiling, bits/s.</summary>
    public long MaxBitrate => _worker.Options.MaxPublishBitrate;

    /// <summary>True once a track negotiated the transport-wide sequence number (one sequence space per transport).</summary>
    public bool SendsTransportCc => _transportCc is not null;

    public bool SendsRemb => _remb;

    /// <summary>The last REMB-only estimate, bits/s.</summary>
    public long ReceiveSideEstimate => _estimator.Estimate;

    internal void OnTrackAdded(PublishedTrack track)
    {
        if (_transportCc is null && track.Extensions.TransportWideCc is { } id)
        {
            _transportCcId = id;
            _transportCc = new TransportCcFeedbackRecorder(_worker.Time.TimestampFrequency, MaxFeedbackLength);
        }
        _remb |= track.Codec.Has(SdpFeedback.GoogRemb);
    }

    /// <summary>Every RTP packet of the transport, whatever its stream (RTX and padding probes carry sequence numbers too).</summary>
    internal void OnRtp(RtpPacket rtp, long now)
    {
        _rate.Add(rtp.Packet.Length);
        if (_transportCc is { } recorder && rtp.TryGetExtension(_transportCcId, out var value)
            && RtpExtensionValues.TryReadTransportSequenceNumber(value, out var sequence))
        {
            recorder.OnPacket(sequence, rtp.Ssrc, now);
        }
    }

    internal void OnTick(long now)
    {
        var rate = _rate.BitsPerSecond(now);
        if (_transportCc is { } recorder)
        {
            recorder.SetBitrate(rate);
            SendTransportCc(recorder, now);
        }
        if (_remb && now >= _nextRemb)
        {
            _nextRemb = now + _rembInterval;
            SendRemb(_transportCc is null ? _estimator.Update(rate, TakeLossFraction()) : MaxBitrate);
        }
    }

    private void SendTransportCc(TransportCcFeedbackRecorder recorder, long now)
    {
        if (!recorder.BeginFeedback(now)) return;
        var buffer = _worker.SendBuffer;
        while (recorder.TryWriteNext(buffer, _rtcpSsrc, out var length))
        {
            if (_transport.SendRtcp(buffer, length)) _worker.Metrics.TransportCcSent();
        }
    }

    private void SendRemb(long bitrate)
    {
        Span<uint> ssrcs = stackalloc uint[Math.Min(_producers.Count, 32)];
        var count = 0;
        for (var i = 0; i < _producers.Count && count < ssrcs.Length; i++)
        {
            var layers = _producers[i].Layers;
            for (var j = 0; j < layers.Count && count < ssrcs.Length; j++)
            {
                if (layers[j].Ssrc is { } ssrc) ssrcs[count++] = ssrc;
            }
        }
        var buffer = _worker.SendBuffer;
        if (RtcpRemb.TryWrite(buffer, _rtcpSsrc, (ulong)bitrate, ssrcs[..count], out var length) && _transport.SendRtcp(buffer, length))
            _worker.Metrics.RembSent();
    }

    // The share of the publisher's packets lost since the last call, from the streams' own sequence numbers.
    private double TakeLossFraction()
    {
        long expected = 0, received = 0;
        for (var i = 0; i < _producers.Count; i++)
        {
            var layers = _producers[i].Layers;
            for (var j = 0; j < layers.Count; j++)
            {
                expected += layers[j].Reception.Expected;
                received += layers[j].Reception.Received;
            }
        }
        var expectedNow = expected - _expected;
        var lost = expectedNow - (received - _received);
        _expected = expected;
        _received = received;
        return expectedNow <= 0 || lost <= 0 ? 0 : Math.Min(1.0, (double)lost / expectedNow);
    }
}
