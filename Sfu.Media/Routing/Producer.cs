using Sfu.Media.Rtcp;
using Sfu.Media.Rtp;
using Sfu.Media.Sdp;

namespace Sfu.Media.Routing;

/// <summary>
/// One published track: receives the publisher's RTP (already decrypted), keeps recent video packets for
/// retransmission, and fans each packet out to its consumers. Asks the publisher for keyframes, at most once
/// per interval, and sends it receiver reports. Worker thread only.
/// </summary>
public sealed class Producer : IDisposable
{
    private static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(1);

    private readonly PublisherMedia _owner;
    private readonly List<Consumer> _consumers = [];
    private readonly RtpPacketCache? _cache;
    private readonly KeyframeRequestThrottle? _keyframes;
    private readonly ReceptionStatistics _reception = new();
    private readonly long _reportInterval;
    private long _nextReport;

    internal Producer(string id, PublishedTrack track, PublisherMedia owner, TimeProvider time)
    {
        Id = id;
        Track = track;
        _owner = owner;
        VideoCodec = track.Kind == MediaKind.Video ? VideoCodecOf(track.Codec) : null;
        if (track.Kind == MediaKind.Video)
        {
            _cache = new RtpPacketCache();
            _keyframes = new KeyframeRequestThrottle(time, TimeSpan.FromMilliseconds(owner.Worker.Options.KeyframeRequestIntervalMs));
        }
        _reportInterval = (long)(ReportInterval.TotalSeconds * time.TimestampFrequency);
    }

    public string Id { get; }

    public PublishedTrack Track { get; }

    public MediaKind Kind => Track.Kind;

    /// <summary>The codec's name for keyframe detection; null for audio and for codecs we cannot inspect.</summary>
    internal RtpVideoCodec? VideoCodec { get; }

    /// <summary>The media SSRC, signalled in SDP or learned from the first packet (by mid or rid).</summary>
    public uint? Ssrc { get; internal set; }

    /// <summary>The publisher's last sender report: (NTP time, RTP time), to translate for subscribers.</summary>
    internal (ulong Ntp, uint Rtp)? LastSenderReport { get; private set; }

    /// <summary>What arrived of this stream (expected and received counts), for receiver reports and the receive-side estimate.</summary>
    internal ReceptionStatistics Reception => _reception;

    internal void AddConsumer(Consumer consumer) => _consumers.Add(consumer);

    internal void RemoveConsumer(Consumer consumer) => _consumers.Remove(consumer);

    internal void ReceiveRtp(RtpPacket packet, long now)
    {
        _reception.Update(packet.SequenceNumber);
        var isKeyframe = false;
        if (VideoCodec is { } codec)
        {
            _cache!.Store(packet.SequenceNumber, packet.Packet);
            isKeyframe = RtpKeyframe.IsKeyframeStart(codec, packet.Payload);
            if (isKeyframe) _keyframes!.OnKeyframeReceived();
        }
        foreach (var consumer in _consumers) consumer.Forward(packet, isKeyframe, now);
    }

    internal void ReceiveSenderReport(ulong ntp, uint rtp) => LastSenderReport = (ntp, rtp);

    /// <summary>A copy of a recent packet by its original sequence number, for a retransmission.</summary>
    internal bool TryGetCached(ushort sequenceNumber, out ReadOnlySpan<byte> packet)
    {
        packet = default;
        return _cache is not null && _cache.TryGet(sequenceNumber, out packet);
    }

    /// <summary>Asks the publisher for a keyframe now, or as soon as the throttle allows.</summary>
    public void RequestKeyframe()
    {
        if (_keyframes is null || Ssrc is not { } ssrc) return;
        if (_keyframes.Request()) _owner.SendKeyframeRequest(ssrc);
    }

    internal void OnTick(long now)
    {
        if (Ssrc is not { } ssrc) return;
        if (_keyframes is not null && _keyframes.Poll()) _owner.SendKeyframeRequest(ssrc);
        if (now < _nextReport) return;
        _nextReport = now + _reportInterval;
        _owner.SendReceiverReport(_reception.TakeReportBlock(ssrc, LastSenderReport));
    }

    private static RtpVideoCodec? VideoCodecOf(NegotiatedCodec codec) => codec.Name.ToUpperInvariant() switch
    {
        "VP8" => RtpVideoCodec.Vp8,
        "VP9" => RtpVideoCodec.Vp9,
        "H264" => RtpVideoCodec.H264,
        "AV1" => RtpVideoCodec.Av1,
        _ => null,
    };

    public void Dispose()
    {
        foreach (var consumer in _consumers.ToArray()) consumer.Dispose();
        _cache?.Dispose();
    }
}

/// <summary>What a receiver report says about one incoming stream (RFC 3550 A.3, without jitter).</summary>
internal sealed class ReceptionStatistics
{
    private bool _started;
    private ushort _maxSequence;
    private uint _cycles;
    private uint _baseSequence;
    private long _received;
    private long _expectedAtLastReport;
    private long _receivedAtLastReport;

    public void Update(ushort sequence)
    {
        if (!_started)
        {
            _started = true;
            _maxSequence = sequence;
            _baseSequence = sequence;
        }
        else if ((ushort)(sequence - _maxSequence) is > 0 and < 0x8000)
        {
            if (sequence < _maxSequence) _cycles += 0x10000;
            _maxSequence = sequence;
        }
        _received++;
    }

    public long Received => _received;

    /// <summary>Packets the sequence numbers say were sent, from the first received to the highest.</summary>
    public long Expected => _started ? (long)_cycles + _maxSequence - _baseSequence + 1 : 0;

    public RtcpReportBlock TakeReportBlock(uint ssrc, (ulong Ntp, uint Rtp)? lastSenderReport)
    {
        var extendedMax = _cycles + _maxSequence;
        var expected = Expected;
        var lost = Math.Max(0, expected - _received);
        var expectedInterval = expected - _expectedAtLastReport;
        var lostInterval = expectedInterval - (_received - _receivedAtLastReport);
        _expectedAtLastReport = expected;
        _receivedAtLastReport = _received;
        var fraction = expectedInterval <= 0 || lostInterval <= 0 ? (byte)0 : (byte)Math.Min(255, (lostInterval << 8) / expectedInterval);
        var lastSr = lastSenderReport is { } sr ? (uint)(sr.Ntp >> 16) : 0;
        return new RtcpReportBlock(ssrc, fraction, (int)Math.Min(lost, 0x7FFFFF), extendedMax, 0, lastSr, 0);
    }
}
