using System.Buffers.Binary;
using Sfu.Media.Diagnostics;
using Sfu.Media.Routing;
using Sfu.Media.Rtcp;
using Sfu.Media.Rtp;
using Sfu.Media.Sdp;
using Sfu.Media.Worker;

namespace Sfu.Media.Pipes;

/// <summary>
/// A track published on another worker, mirrored on this one: a <see cref="Producer"/> like any other for this worker's
/// consumers (layers, rates, picture sizes, retransmission cache, keyframe throttle), fed from a
/// <see cref="WorkerPipe"/> instead of a publish transport. Keyframe requests go back to the real producer on its own
/// worker (<paramref name="requestKeyframe"/> posts there); receiver reports are that producer's job, so a mirror sends
/// none. Worker thread only.
/// </summary>
internal sealed class PipedProducer : IProducerHost, IPipeReceiver, IPipeEntryHandler, IDisposable
{
    private readonly WorkerPipe _pipe;
    private readonly Action<int> _requestKeyframe;

    public PipedProducer(string trackId, PublishedTrack track, WorkerPipe pipe, Action<int> requestKeyframe, IMediaHost host)
    {
        _pipe = pipe;
        _requestKeyframe = requestKeyframe;
        Host = host;
        Producer = new Producer(trackId, track, this, host.Time);
    }

    public Producer Producer { get; }

    public IMediaHost Host { get; }

    public bool Drain(int maxEntries) => _pipe.Drain(this, maxEntries);

    void IPipeEntryHandler.Handle(PipeEntry entry)
    {
        if (entry.Tag >= Producer.Layers.Count) return;
        var layer = Producer.Layers[entry.Tag];
        switch (entry.Kind)
        {
            case PipeEntryKind.Rtp when RtpPacket.TryParse(entry.Payload, out var packet):
                // The home worker learns and re-learns each layer's SSRC; the mirror follows what arrives.
                layer.Ssrc = packet.Ssrc;
                Producer.ReceiveRtp(layer, packet, entry.Arrival);
                return;
            case PipeEntryKind.SenderReport:
                Producer.OnSenderReport(layer, BinaryPrimitives.ReadUInt64BigEndian(entry.Payload), BinaryPrimitives.ReadUInt32BigEndian(entry.Payload[8..]));
                return;
            default:
                Host.Metrics.Dropped(DropReason.Malformed);
                return;
        }
    }

    public void OnTick(long now) => Producer.OnTick(now);

    void IProducerHost.SendKeyframeRequest(uint mediaSsrc)
    {
        foreach (var layer in Producer.Layers)
        {
            if (layer.Ssrc == mediaSsrc) _requestKeyframe(layer.Index);
        }
    }

    void IProducerHost.SendReceiverReport(RtcpReportBlock block)
    {
    }

    public void Dispose()
    {
        _pipe.CloseReader();
        Producer.Dispose();
    }
}
