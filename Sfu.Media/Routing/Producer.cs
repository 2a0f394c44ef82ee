using System.Buffers.Binary;
using Sfu.Media.Diagnostics;
using Sfu.Media.Pipes;
using Sfu.Media.Rtcp;
using Sfu.Media.Rtp;
using Sfu.Media.Sdp;

namespace Sfu.Media.Routing;

/// <summary>
/// One published track: receives the publisher's RTP (already decrypted) on one or more layers (simulcast
/// streams, lowest first), keeps recent video packets of each for retransmission, measures each layer's rate,
/// and fans each packet out to its consumers, which pick the layer they forward. Asks the publisher for a
/// layer's keyframe at most once per interval, and sends it receiver reports per layer. A VP9 track sent as one
/// stream may carry spatial layers inside it (SVC): then <see cref="Svc"/> measures them, and its consumers pick
/// spatial layers instead of streams. Worker thread only.
/// </summary>
public sealed class Producer : IDisposable
{
    private static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(1);

    // A layer silent this long was interrupted (the publisher changing network, or an outage), not between frames:
    // Chrome sends even its lowest simulcast layer several times a second.
    private static readonly TimeSpan InterruptionGap = TimeSpan.FromMilliseconds(500);

    private readonly IProducerHost _owner;
    private readonly List<Consumer> _consumers = [];
    // Workers other than this one whose subscribers receive this track: each gets every packet once, through its pipe.
    private readonly List<WorkerPipe> _pipes = [];
    private bool _disposed;
    private readonly ProducerLayer[] _layers;
    private readonly long _reportInterval;
    private readonly long _interruptionGap;
    private long _nextReport;

    internal Producer(string id, PublishedTrack track, IProducerHost owner, TimeProvider time)
    {
        Id = id;
        Track = track;
        _owner = owner;
        VideoCodec = track.Kind == MediaKind.Video ? VideoCodecOf(track.Codec) : null;
        var keyframeInterval = TimeSpan.FromMilliseconds(owner.Host.Options.KeyframeRequestIntervalMs);
        var count = Math.Max(1, Math.Max(track.Rids.Count, track.Streams.Count));
        _layers = new ProducerLayer[count];
        for (var i = 0; i < count; i++)
        {
            var rid = i < track.Rids.Count ? track.Rids[i] : null;
            var nackHost = track.Codec.Has(Sdp.RtcpFeedback.Nack) ? owner as IUplinkRepairHost : null;
            _layers[i] = new ProducerLayer(i, rid, track.Kind == MediaKind.Video, nackHost, time, keyframeInterval);
        }
        // Rid or SSRC simulcast is one picture per stream; one VP9 stream may hold several (SVC). Never both.
        if (VideoCodec == RtpVideoCodec.Vp9 && count == 1) Svc = new SpatialLayers(time.TimestampFrequency);
        _reportInterval = (long)(ReportInterval.TotalSeconds * time.TimestampFrequency);
        _interruptionGap = (long)(InterruptionGap.TotalSeconds * time.TimestampFrequency);
    }

    public string Id { get; }

    public PublishedTrack Track { get; }

    public MediaKind Kind => Track.Kind;

    /// <summary>The codec's name for keyframe detection; null for audio and for codecs we cannot inspect.</summary>
    internal RtpVideoCodec? VideoCodec { get; }

    /// <summary>The track's RTP streams, lowest simulcast layer first; one for a track without simulcast.</summary>
    public IReadOnlyList<ProducerLayer> Layers => _layers;

    /// <summary>The spatial layers inside the one stream of a VP9 track; null for simulcast and other codecs.</summary>
    internal SpatialLayers? Svc { get; }

    /// <summary>A VP9 track sent as one stream whose spatial layers are its layers (SVC), not simulcast.</summary>
    public bool IsSvc => Svc is not null;

    /// <summary>
    /// How many layers a subscriber can be given (and <c>maxLayer</c> can name): the simulcast streams, or the spatial
    /// layers a VP9 stream can number, whether or not its publisher sends that many.
    /// </summary>
    public int SelectableLayerCount => Svc is null ? _layers.Length : SpatialLayers.MaxCount;

    /// <summary>Spatial layers the VP9 stream has shown so far (0 until it shows any; always 0 without <see cref="Svc"/>).</summary>
    public int SpatialLayerCount => Svc?.Count ?? 0;

    internal void AddConsumer(Consumer consumer) => _consumers.Add(consumer);

    internal void RemoveConsumer(Consumer consumer) => _consumers.Remove(consumer);

    /// <param name="repaired">Restored from the layer's RTX stream: forwarded only if it fills a gap.</param>
    internal void ReceiveRtp(ProducerLayer layer, RtpPacket packet, long now, bool repaired = false)
    {
        if (layer.Repair is { } repair && !repair.Admit(packet.Ssrc, packet.SequenceNumber, repaired, now)) return;
        var silentSince = layer.Meter.HasPackets && now - layer.Meter.LastPacket >= _interruptionGap ? layer.Meter.LastPacket : -1;
        layer.Reception.Update(packet.SequenceNumber);
        layer.Meter.OnPacket(packet.Packet.Length, packet.Marker, now);
        var isKeyframe = false;
        Vp9PayloadDescriptor svc = default;
        if (Svc is not null)
        {
            // Each consumer chooses by these layer indices: a packet without a readable descriptor has no place.
            if (!Vp9PayloadDescriptor.TryParse(packet.Payload, out svc))
            {
                _owner.Host.Metrics.Dropped(DropReason.Malformed);
                return;
            }
            Svc.OnPacket(svc, packet.Payload, packet.Packet.Length, now);
        }
        if (VideoCodec is { } codec)
        {
            layer.Cache!.Store(packet.SequenceNumber, packet.Packet);
            isKeyframe = Svc is null ? RtpKeyframe.IsKeyframeStart(codec, packet.Payload) : svc.StartOfKeyframe;
            if (isKeyframe)
            {
                layer.Keyframes!.OnKeyframeReceived();
                if (codec == RtpVideoCodec.Vp8 && RtpKeyframe.TryReadVp8KeyframeSize(packet.Payload, out var width, out var height))
                {
                    layer.Width = width;
                    layer.Height = height;
                }
            }
        }
        // Back after an interruption, without a keyframe: what was asked for meanwhile was lost with the old path.
        if (silentSince >= 0 && layer.Keyframes is { } keyframes && keyframes.ResendAfterSilence(silentSince)) _owner.SendKeyframeRequest(packet.Ssrc);
        foreach (var consumer in _consumers) consumer.Forward(layer, packet, isKeyframe, now, svc);
        if (_pipes.Count > 0) WriteToPipes(PipeEntryKind.Rtp, (byte)layer.Index, now, packet.Packet);
    }

    /// <summary>The publisher's sender report for one layer: kept to translate for subscribers, here and on other workers.</summary>
    internal void OnSenderReport(ProducerLayer layer, ulong ntp, uint rtp)
    {
        layer.LastSenderReport = (ntp, rtp);
        if (_pipes.Count == 0) return;
        Span<byte> report = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64BigEndian(report, ntp);
        BinaryPrimitives.WriteUInt32BigEndian(report[8..], rtp);
        WriteToPipes(PipeEntryKind.SenderReport, (byte)layer.Index, 0, report);
    }

    /// <summary>Starts sending every packet of this track through <paramref name="pipe"/> to a mirror on another worker.</summary>
    internal void PipeTo(WorkerPipe pipe)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _pipes.Add(pipe);
    }

    private void WriteToPipes(PipeEntryKind kind, byte layer, long now, ReadOnlySpan<byte> payload)
    {
        for (var i = _pipes.Count - 1; i >= 0; i--)
        {
            var pipe = _pipes[i];
            if (pipe.IsReaderClosed) _pipes.RemoveAt(i);
            else if (!pipe.TryWrite(kind, layer, now, payload)) _owner.Host.Metrics.Dropped(DropReason.PipeFull);
        }
    }

    /// <summary>A copy of a recent packet of one layer by its original sequence number, for a retransmission.</summary>
    internal bool TryGetCached(int layer, ushort sequenceNumber, out ReadOnlySpan<byte> packet)
    {
        packet = default;
        return _layers[layer].Cache is { } cache && cache.TryGet(sequenceNumber, out packet);
    }

    /// <summary>Asks the publisher for a keyframe of one layer now, or as soon as that layer's throttle allows.</summary>
    public void RequestKeyframe(int layer)
    {
        // A mirror on another worker may ask after the track was unpublished here.
        if (_disposed) return;
        var target = _layers[layer];
        if (target.Keyframes is null || target.Ssrc is not { } ssrc) return;
        if (target.Keyframes.Request()) _owner.SendKeyframeRequest(ssrc);
    }

    /// <summary>Asks for a keyframe of every layer (the publisher's transport just connected).</summary>
    internal void RequestKeyframes()
    {
        foreach (var layer in _layers) RequestKeyframe(layer.Index);
    }

    internal void OnTick(long now)
    {
        var report = now >= _nextReport;
        if (report) _nextReport = now + _reportInterval;
        Svc?.OnTick(now);
        foreach (var layer in _layers)
        {
            layer.Meter.OnTick(now);
            if (layer.Ssrc is not { } ssrc) continue;
            if (layer.Repair is { } repair && repair.OnTick(ssrc, now)) RequestKeyframe(layer.Index);
            if (layer.Keyframes is not null && layer.Keyframes.Poll()) _owner.SendKeyframeRequest(ssrc);
            if (report) _owner.SendReceiverReport(layer.Reception.TakeReportBlock(ssrc, layer.LastSenderReport));
        }
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
        _disposed = true;
        _pipes.Clear();
        foreach (var consumer in _consumers.ToArray()) consumer.Dispose();
        foreach (var layer in _layers) layer.Dispose();
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
