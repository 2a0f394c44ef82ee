using System.Buffers.Binary;
using Sfu.Media.Diagnostics;
using Sfu.Media.Rtp;
using Sfu.Media.Sdp;

namespace Sfu.Media.Routing;

/// <summary>What a subscriber's answer agreed for one forwarded track.</summary>
public sealed record ConsumerParameters(
    string Mid,
    uint Ssrc,
    uint? RtxSsrc,
    int PayloadType,
    int? RtxPayloadType,
    RtpHeaderExtensionIds Extensions);

/// <summary>
/// One producer's stream as one subscriber receives it: the subscriber's SSRC, payload type, header extension
/// ids and mid, and a sequence/timestamp space of its own that stays continuous across pauses and layer
/// switches. Of a simulcast producer it forwards one layer, chosen by its subscriber's allocator; video starts,
/// switches and resumes at a keyframe of the layer. Of a VP9 SVC producer (one stream, spatial layers inside) it
/// forwards the spatial layers up to one, chosen the same way (<see cref="SpatialLayerFilter"/>). NACKs are answered
/// from the producer's cache. Worker thread only.
/// </summary>
public sealed class Consumer : IDisposable
{
    private static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(1);

    // A layer counts as stopped once another has arrived this much later than its last packet: six frames at 20 fps,
    // far more than the gap between two frames of a live layer, whose packets leave the publisher with the others'.
    private static readonly TimeSpan StallGap = TimeSpan.FromMilliseconds(300);

    private readonly IConsumerHost _owner;
    private readonly SequenceNumberRewriter _rewriter;
    private readonly byte[] _mid;
    private readonly int? _sourceAbsSendTimeId;
    private readonly int? _sourceAudioLevelId;
    // Whether the subscriber accepted transport-wide sequence numbers: then every packet sent carries one.
    private readonly bool _stampsTransportSequence;
    // What each sent sequence number carried, for NACKs.
    private readonly SentPacketHistory _history;
    // VP8 only: rewrites the picture numbering; each sent packet's offsets are kept in the history, so a retransmission matches it.
    private readonly Vp8PictureIdRewriter? _pictureIds;
    // VP9 SVC only: the spatial layers forwarded.
    private readonly SpatialLayerFilter? _spatial;
    private readonly long _reportInterval;
    private readonly long _stallGap;
    private readonly LayerSelector _layers;
    private ushort _rtxSequence;
    private uint _packetsSent;
    private uint _octetsSent;
    private long _nextReport;
    private uint _lastSourceTimestamp;
    private uint _lastSentTimestamp;
    private bool _disposed;
    private bool _countedPaused;
    private int _reportedLayer = LayerSelector.None;
    private bool _reportedPaused;

    // Moving down for bandwidth: until the lower layer's keyframe arrives, the layer being left goes out at its base
    // temporal layer only, instead of at the full rate the link no longer carries. Chromium sent that keyframe up to
    // 2.5 s after the request on a loaded machine, and meanwhile the subscriber's audio was lost in the full queue.
    // VP8 with temporal layers only (Chromium's simulcast is L1T3: the base layer is ~40 % of the rate); other streams
    // have no lighter part to send and keep going in full. Cleared at the next keyframe forwarded, which nothing
    // before it is referenced across.
    private bool _baseTemporalLayerOnly;

    internal Consumer(Producer producer, IConsumerHost owner, ConsumerParameters parameters, TimeProvider time)
    {
        Producer = producer;
        _owner = owner;
        Parameters = parameters;
        _mid = System.Text.Encoding.ASCII.GetBytes(parameters.Mid);
        _sourceAbsSendTimeId = producer.Track.Extensions.AbsSendTime;
        _sourceAudioLevelId = producer.Track.Extensions.AudioLevel;
        _stampsTransportSequence = parameters.Extensions.TransportWideCc is >= 1 and <= 14;
        _rewriter = new SequenceNumberRewriter(producer.Track.Codec.ClockRate, time.TimestampFrequency);
        _layers = new LayerSelector(waitsForKeyframes: producer.VideoCodec is not null);
        if (producer.VideoCodec == RtpVideoCodec.Vp8) _pictureIds = new Vp8PictureIdRewriter();
        if (producer.Svc is not null) _spatial = new SpatialLayerFilter();
        _rtxSequence = (ushort)Random.Shared.Next(ushort.MaxValue);
        _reportInterval = (long)(ReportInterval.TotalSeconds * time.TimestampFrequency);
        _stallGap = (long)(StallGap.TotalSeconds * time.TimestampFrequency);
        _history = new SentPacketHistory(time.TimestampFrequency);
        Allocation = new LayerAllocation(producer);
        producer.AddConsumer(this);
        // Until the allocator first runs: the best layer, as a track without simulcast always had.
        SetLayer(Allocation.Layers.Length - 1);
    }

    public Producer Producer { get; }

    public ConsumerParameters Parameters { get; }

    /// <summary>The layer being forwarded (of SVC: the highest spatial layer); -1 while paused or waiting for the first keyframe.</summary>
    public int CurrentLayer => _spatial is null || _layers.Current == LayerSelector.None ? _layers.Current : Existing(_spatial.Current);

    /// <summary>The layer the allocator chose; -1 when paused.</summary>
    public int TargetLayer => _spatial is null || _layers.Target == LayerSelector.None ? _layers.Target : Existing(_spatial.Target);

    /// <summary>
    /// A spatial layer as far as the stream has it: a consumer that takes every layer (before its first allocation, or
    /// uncapped) forwards the top one the publisher sends.
    /// </summary>
    private int Existing(int spatialId) => Math.Min(spatialId, Math.Max(0, Producer.SpatialLayerCount - 1));

    /// <summary>The layers of this track subscribers tell apart: simulcast streams, or SVC spatial layers once more than one arrived.</summary>
    private bool HasLayers => LayerCount > 1;

    /// <summary>The layers the track has now: its simulcast streams, or the spatial layers of its SVC stream seen so far.</summary>
    internal int LayerCount => Producer.Svc is null ? Producer.Layers.Count : Math.Max(1, Producer.SpatialLayerCount);

    public bool IsPaused => _layers.IsPaused;

    /// <summary>The allocator's view of this consumer: its caps, the layers' figures and its decision.</summary>
    internal LayerAllocation Allocation { get; }

    /// <summary>Copies the producer's layer figures into the allocator's input.</summary>
    internal void RefreshLayerFigures()
    {
        if (Producer.Svc is { } svc)
        {
            for (var i = 0; i < Allocation.Layers.Length; i++) Allocation.Layers[i] = svc.Figures(i);
            // Started on the highest layer VP9 can number: now the stream shows its own top layer, that is the one it has.
            var top = svc.Count - 1;
            if (top >= 0 && Allocation.Layer > top && !svc.HasArrived(Allocation.Layer))
            {
                Allocation.Assume(top);
                SetLayer(top);
            }
            return;
        }
        var layers = Producer.Layers;
        for (var i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            Allocation.Layers[i] = new LayerFigures(layer.Bitrate, layer.IsActive, layer.Width, layer.Height);
        }
    }

    /// <summary>Follows the allocator's decision, counting it.</summary>
    internal void ApplyAllocation()
    {
        if (!Allocation.Changed) return;
        var leaving = _layers.Current;
        SetLayer(Allocation.Layer);
        if (Allocation is { Reason: LayerChangeReason.Bandwidth, Layer: >= 0 } && Allocation.Layer < leaving) _baseTemporalLayerOnly = true;
        // Back to the layer being left before the switch happened: its higher temporal layers need a fresh start.
        else if (_baseTemporalLayerOnly && Allocation.Layer == leaving) Producer.RequestKeyframe(leaving);
        var metrics = _owner.Host.Metrics;
        metrics.LayerChanged(Allocation.Reason);
        if (_countedPaused != IsPaused)
        {
            _countedPaused = IsPaused;
            metrics.ConsumerPaused(IsPaused);
        }
    }

    /// <summary>
    /// True once per change of what the subscriber gets: another layer reached (at its keyframe), or paused or
    /// resumed. Only simulcast tracks have layers to report; any track can be paused.
    /// </summary>
    internal bool TakeLayerChange(out int layer, out bool paused, out LayerChangeReason reason)
    {
        layer = CurrentLayer;
        paused = _layers.IsPaused;
        reason = _layers.FellBack ? LayerChangeReason.LayerLost : Allocation.Reason;
        if (paused)
        {
            if (_reportedPaused) return false;
            _reportedPaused = true;
            return true;
        }
        // Resumed or switched: say so once the new layer's keyframe went out, not while it is awaited.
        if (layer == LayerSelector.None || (layer == _reportedLayer && !_reportedPaused)) return false;
        var report = _reportedPaused || HasLayers;
        _reportedPaused = false;
        _reportedLayer = layer;
        return report;
    }

    /// <summary>
    /// Moves to <paramref name="layer"/> (at its next keyframe), or pauses with -1. The keyframe is asked for at once
    /// when the subscriber can receive it, else when its transport connects (<see cref="RequestKeyframe"/>).
    /// </summary>
    internal void SetLayer(int layer)
    {
        if (_spatial is not null)
        {
            // One stream: paused or not; the layer is the spatial one, and moving up needs the stream's keyframe.
            var upwards = layer != LayerSelector.None && _spatial.SetTarget(layer);
            if ((_layers.SetTarget(layer == LayerSelector.None ? LayerSelector.None : 0) | upwards) && _owner.CanSend) Producer.RequestKeyframe(0);
            return;
        }
        if (_layers.SetTarget(layer) && _owner.CanSend) Producer.RequestKeyframe(layer);
    }

    /// <param name="svc">The payload descriptor, read once by the producer, when it is an SVC stream.</param>
    internal void Forward(ProducerLayer layer, RtpPacket source, bool isKeyframe, long now, in Vp9PayloadDescriptor svc)
    {
        // A lower layer's keyframe may be the first packet after its silence: whether it can stand in is decided
        // now, not at the next tick (keyframes are rare, so this costs nothing per packet).
        if (isKeyframe && layer.Index < _layers.Target && layer.Index != _layers.Current) UpdateStall();
        switch (_layers.Decide(layer.Index, isKeyframe, _owner.CanSend))
        {
            case LayerDecision.Drop:
                return;
            case LayerDecision.DropAndRequestKeyframe:
                Producer.RequestKeyframe(layer.Index);
                return;
            case LayerDecision.SwitchAndForward:
                // Another source: the rewriter continues the output at last + 1 and advances the timestamp.
                StartNewSource();
                // A stand-in is a switch no allocation asked for: counted here, as the allocator's are when it decides.
                if (_layers.FellBack) _owner.Host.Metrics.LayerChanged(LayerChangeReason.LayerLost);
                break;
            case LayerDecision.Forward when isKeyframe:
                _baseTemporalLayerOnly = false;
                break;
            case LayerDecision.Forward when AboveTemporalCap(source):
                _rewriter.Skip(source.Ssrc, source.SequenceNumber);
                return;
        }
        if (!_rewriter.Follows(source.Ssrc) && !ContinueRestartedLayer(layer, isKeyframe)) return;
        var marker = source.Marker;
        if (_spatial is not null)
        {
            var decision = _spatial.Decide(svc, source.Timestamp, source.Marker, Allocation.Preferences.MaxTemporalLayer);
            if (decision == SpatialDecision.Drop)
            {
                _rewriter.Skip(source.Ssrc, source.SequenceNumber);
                return;
            }
            marker = decision == SpatialDecision.ForwardEndOfPicture;
        }
        var newest = _rewriter.LastSequenceNumber;
        if (!_rewriter.TryRewrite(source.Ssrc, source.SequenceNumber, source.Timestamp, now, out var sequence, out var timestamp)) return;

        // A late packet (the publisher's retransmission of one lost on its uplink, or reordered) goes out under the
        // number its place in the stream gives it, filling the subscriber's gap; unless that number went out already,
        // or is older than the history that keeps numbers apart.
        var late = _packetsSent > 0 && (short)(sequence - newest) <= 0;
        if (late && ((ushort)(newest - sequence) >= SentPacketHistory.Size || _history.Contains(sequence))) return;
        ref var sent = ref _history.Record(sequence, layer.Index, source.Ssrc, source.SequenceNumber, timestamp, marker, now);

        var buffer = _owner.Host.SendBuffer;
        var length = Write(buffer, source, marker, Parameters.PayloadType, Parameters.Ssrc, sequence, timestamp, rtxOriginalSequence: null);
        if (length < 0) return;
        if (_pictureIds is not null)
        {
            var payloadLength = source.Packet.Length - source.HeaderLength;
            (sent.PictureOffset, sent.Tl0Offset) = _pictureIds.Rewrite(buffer.AsSpan(length - payloadLength, payloadLength));
        }
        if (!_owner.SendRtp(buffer, length, _stampsTransportSequence)) return;
        _packetsSent++;
        if (!late)
        {
            _lastSourceTimestamp = source.Timestamp;
            _lastSentTimestamp = timestamp;
        }
        _octetsSent += (uint)(length - RtpPacket.FixedHeaderLength);
        _owner.Host.Metrics.Forwarded();
    }

    /// <summary>
    /// The layer being forwarded came back under a new SSRC (the publisher restarted its encoder, as after a
    /// renegotiation): its numbering and pictures start afresh, so the subscriber's stream continues from the new
    /// SSRC's next keyframe as across a switch (asked for now; audio, which has none, continues at once). False while
    /// that keyframe is awaited.
    /// </summary>
    private bool ContinueRestartedLayer(ProducerLayer layer, bool isKeyframe)
    {
        if (Producer.VideoCodec is not null && !isKeyframe)
        {
            Producer.RequestKeyframe(layer.Index);
            return false;
        }
        StartNewSource();
        return true;
    }

    /// <summary>
    /// The next packet, a keyframe (or audio), starts another source: numbering, picture ids and pictures continue
    /// from there, and nothing before it is referenced any more.
    /// </summary>
    private void StartNewSource()
    {
        _rewriter.RequestSwitch();
        _pictureIds?.RequestSwitch();
        _spatial?.Restart();
        _baseTemporalLayerOnly = false;
    }

    /// <summary>
    /// A VP8 packet of a temporal layer above the subscriber's cap, or above the base layer while the layer being left
    /// for bandwidth still goes out. Frames of the higher temporal layers are referenced only by frames of higher
    /// layers still, so the lower ones decode without them, at a lower frame rate. A switch is never one of these: it happens at a keyframe, which is in the base layer.
    /// </summary>
    private bool AboveTemporalCap(RtpPacket source) =>
        (_baseTemporalLayerOnly ? 0 : Allocation.Preferences.MaxTemporalLayer) is { } cap && Producer.VideoCodec == RtpVideoCodec.Vp8
        && Vp8PayloadDescriptor.TryParse(source.Payload, out var descriptor) && descriptor.TemporalId > cap;

    /// <summary>Re-sends packets the subscriber reported lost, as RTX when negotiated.</summary>
    internal void Retransmit(ReadOnlySpan<ushort> lost)
    {
        var now = _owner.Host.Time.GetTimestamp();
        // The cache's span is reused later and parsing needs a writable span: work on a copy.
        Span<byte> copy = stackalloc byte[RtpPacketCache.DefaultMaxPacketLength];
        foreach (var sequence in lost)
        {
            var resend = _history.TryResend(sequence, now, out var sent);
            if (resend == SentPacketHistory.Resend.Unknown) continue;
            if (resend == SentPacketHistory.Resend.Throttled)
            {
                _owner.Host.Metrics.Dropped(DropReason.NackThrottled);
                continue;
            }
            if (!Producer.TryGetCached(sent.SourceLayer, sent.SourceSequence, out var cached)) continue;
            if (cached.Length > copy.Length) continue;
            cached.CopyTo(copy);
            if (!RtpPacket.TryParse(copy[..cached.Length], out var original) || original.Ssrc != sent.SourceSsrc) continue;

            var buffer = _owner.Host.SendBuffer;
            var rtx = Parameters is { RtxPayloadType: not null, RtxSsrc: not null };
            var length = Parameters is { RtxPayloadType: { } rtxPt, RtxSsrc: { } rtxSsrc }
                ? Write(buffer, original, sent.Marker, rtxPt, rtxSsrc, _rtxSequence++, sent.Timestamp, rtxOriginalSequence: sequence)
                : Write(buffer, original, sent.Marker, Parameters.PayloadType, Parameters.Ssrc, sequence, sent.Timestamp, rtxOriginalSequence: null);
            if (length > 0 && _pictureIds is not null)
            {
                var payloadLength = rtx ? original.Payload.Length : original.Packet.Length - original.HeaderLength;
                Vp8PictureIdRewriter.Apply(buffer.AsSpan(length - payloadLength, payloadLength), sent.PictureOffset, sent.Tl0Offset);
            }
            if (length > 0 && _owner.SendRtp(buffer, length, _stampsTransportSequence)) _owner.Host.Metrics.Retransmitted();
        }
    }

    /// <summary>
    /// Media moved to a new client address: what was sent since <paramref name="since"/> most likely went to the old,
    /// dead one, so send it again (at most <paramref name="max"/> packets, oldest first) to the new address at once.
    /// The client fills its gaps instead of waiting for NACKs, and its new path carries media in the same loop
    /// turn as the check that moved it. Only what the producer still caches can be re-sent (video).
    /// </summary>
    internal void ResendSince(long since, int max)
    {
        if (_packetsSent == 0) return;
        Span<ushort> recent = stackalloc ushort[Math.Min(max, SentPacketHistory.Size)];
        var count = 0;
        var sequence = _rewriter.LastSequenceNumber;
        while (count < recent.Length)
        {
            if (!_history.SentSince(sequence, since)) break;
            recent[count++] = sequence--;
        }
        recent[..count].Reverse();
        Retransmit(recent[..count]);
    }

    /// <summary>Whether this consumer can carry probe padding: RTX negotiated, numbered transport-wide, and sending already.</summary>
    internal bool CanSendPadding => _stampsTransportSequence && Parameters is { RtxPayloadType: not null, RtxSsrc: not null } && _packetsSent > 0;

    /// <summary>
    /// Sends one padding-only RTX packet (no payload, <paramref name="paddingBytes"/> of padding, a multiple of 4
    /// up to 252) for a probe: it loads the link like media does, but the subscriber's decoder never sees it.
    /// Only when <see cref="CanSendPadding"/>.
    /// </summary>
    internal bool SendPadding(int paddingBytes)
    {
        if (Parameters is not { RtxPayloadType: { } rtxPt, RtxSsrc: { } rtxSsrc }) return false;
        Span<byte> buffer = _owner.Host.SendBuffer;
        var offset = WriteExtensions(buffer, default);
        var total = offset + paddingBytes;
        if (total + Transports.WebRtcTransport.MaxProtectionOverhead > buffer.Length) return false;
        buffer[0] = (byte)(0x80 | 0x20 | (offset > RtpPacket.FixedHeaderLength ? 0x10 : 0));
        buffer[1] = (byte)(rtxPt & 0x7F);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], _rtxSequence++);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], _lastSentTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[8..], rtxSsrc);
        buffer.Slice(offset, paddingBytes - 1).Clear();
        buffer[total - 1] = (byte)paddingBytes;
        return _owner.SendRtp(buffer, total, stamped: true);
    }

    /// <summary>The subscriber's picture is broken (PLI/FIR, or media moved to a new address): get a keyframe.</summary>
    internal void RequestKeyframe()
    {
        var layer = _layers.IsSwitching ? _layers.Target : _layers.Current;
        if (layer >= 0) Producer.RequestKeyframe(layer);
        // A stand-in layer is what the subscriber decodes; the target it waits for has stopped.
        if (_layers.FellBack) Producer.RequestKeyframe(_layers.Current);
    }

    internal void OnTick(long now)
    {
        UpdateStall();
        if (now < _nextReport || _packetsSent == 0 || _layers.Current < 0
            || Producer.Layers[_layers.Current].LastSenderReport is not { } report) return;
        _nextReport = now + _reportInterval;
        // The publisher's (NTP, RTP) pair, moved into this consumer's timestamp space, keeps lip sync intact.
        var offset = _lastSentTimestamp - _lastSourceTimestamp;
        _owner.SendSenderReport(Parameters.Ssrc, report.Ntp, report.Rtp + offset, _packetsSent, _octetsSent);
    }

    /// <summary>
    /// Notices that the picture stopped because the layer forwarded (if any) and the one awaited both stopped arriving
    /// while a lower one goes on: Chromium drops its top layer when its own estimate falls, as on a new network. The
    /// allocator moves off a layer only after a second of silence; until then the keyframe of any lower layer that
    /// arrives restarts the picture (<see cref="LayerSelector.Stalled"/>), and each of them is asked for one.
    /// </summary>
    private void UpdateStall()
    {
        var target = _layers.Target;
        var layers = Producer.Layers;
        if (Producer.VideoCodec is null || layers.Count < 2 || target == LayerSelector.None)
        {
            _layers.Stalled = false;
            return;
        }
        var freshest = long.MinValue;
        for (var i = 0; i < layers.Count; i++)
        {
            if (layers[i].Meter.HasPackets && layers[i].Meter.LastPacket > freshest) freshest = layers[i].Meter.LastPacket;
        }
        _layers.Stalled = Stopped(_layers.Current, freshest) && Stopped(target, freshest);
        if (!_layers.Stalled) return;
        for (var i = 0; i < target; i++)
        {
            if (!Stopped(i, freshest)) Producer.RequestKeyframe(i);
        }
    }

    // A layer that never arrived has not stopped: the allocator moves off it once a lower one arrives (a start).
    private bool Stopped(int layer, long freshest) =>
        layer == LayerSelector.None || (Producer.Layers[layer].Meter.HasPackets && freshest - Producer.Layers[layer].Meter.LastPacket >= _stallGap);

    /// <summary>
    /// Writes the subscriber's version of <paramref name="source"/>: fixed header with this consumer's
    /// numbers, the header extension block (<see cref="WriteExtensions"/>), then the payload with its padding.
    /// RTX puts the original sequence number first. <paramref name="marker"/> is the subscriber's: the source's, except
    /// where SVC forwarding ends the picture at a lower spatial layer. Returns -1 if it would not fit.
    /// </summary>
    private int Write(Span<byte> buffer, RtpPacket source, bool marker, int payloadType, uint ssrc, ushort sequence, uint timestamp, ushort? rtxOriginalSequence)
    {
        var payload = rtxOriginalSequence is null ? source.Packet[source.HeaderLength..] : source.Payload;
        var offset = WriteExtensions(buffer, source);
        var hasExtension = offset > RtpPacket.FixedHeaderLength;

        var total = offset + (rtxOriginalSequence is null ? 0 : 2) + payload.Length;
        if (total + Transports.WebRtcTransport.MaxProtectionOverhead > buffer.Length) return -1;
        var padding = rtxOriginalSequence is null && source.HasPadding;
        buffer[0] = (byte)(0x80 | (padding ? 0x20 : 0) | (hasExtension ? 0x10 : 0));
        buffer[1] = (byte)((marker ? 0x80 : 0) | (payloadType & 0x7F));
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[8..], ssrc);
        if (rtxOriginalSequence is { } original)
        {
            BinaryPrimitives.WriteUInt16BigEndian(buffer[offset..], original);
            offset += 2;
        }
        payload.CopyTo(buffer[offset..]);
        return offset + payload.Length;
    }

    /// <summary>
    /// The one-byte header extension block after the fixed header, with the subscriber's ids: mid, abs-send-time
    /// and audio level copied from <paramref name="source"/> (when there is one), and the transport-wide sequence
    /// number the packet will be sent under. Returns where the payload starts.
    /// </summary>
    private int WriteExtensions(Span<byte> buffer, RtpPacket source)
    {
        var extensions = Parameters.Extensions;
        var extensionStart = RtpPacket.FixedHeaderLength;
        var offset = extensionStart + 4;
        offset = WriteExtension(buffer, offset, extensions.Mid, _mid);
        if (!source.Packet.IsEmpty)
        {
            if (_sourceAbsSendTimeId is { } absId && source.TryGetExtension(absId, out var abs)) offset = WriteExtension(buffer, offset, extensions.AbsSendTime, abs);
            if (_sourceAudioLevelId is { } levelId && source.TryGetExtension(levelId, out var level)) offset = WriteExtension(buffer, offset, extensions.AudioLevel, level);
        }
        if (_stampsTransportSequence)
        {
            Span<byte> transportSequence = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(transportSequence, _owner.NextTransportSequence);
            offset = WriteExtension(buffer, offset, extensions.TransportWideCc, transportSequence);
        }
        if (offset == extensionStart + 4) return RtpPacket.FixedHeaderLength;
        while ((offset - extensionStart) % 4 != 0) buffer[offset++] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[extensionStart..], RtpPacket.OneByteExtensionProfile);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[(extensionStart + 2)..], (ushort)((offset - extensionStart - 4) / 4));
        return offset;
    }

    private static int WriteExtension(Span<byte> buffer, int offset, int? id, ReadOnlySpan<byte> value)
    {
        if (id is not { } extensionId || extensionId is < 1 or > 14 || value.IsEmpty || value.Length > 16) return offset;
        buffer[offset++] = (byte)((extensionId << 4) | (value.Length - 1));
        value.CopyTo(buffer[offset..]);
        return offset + value.Length;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_countedPaused) _owner.Host.Metrics.ConsumerPaused(false);
        Producer.RemoveConsumer(this);
        _owner.RemoveConsumer(this);
    }
}
