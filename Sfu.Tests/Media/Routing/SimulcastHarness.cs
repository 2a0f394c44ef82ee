using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Sfu.Client.Media;
using Sfu.Media;
using Sfu.Media.Diagnostics;
using Sfu.Media.Dtls;
using Sfu.Media.Rtcp;
using Sfu.Media.Routing;
using Sfu.Media.Sdp;
using Sfu.Media.Srtp;
using Sfu.Media.Stun;
using Sfu.Media.Transports;
using Sfu.Media.Worker;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Routing;

/// <summary>
/// A publisher and a subscriber transport on a real media worker, keyed with SRTP directly (no DTLS handshake)
/// and pointed at two loopback sockets that stand in for the clients. A test feeds synthetic simulcast RTP into
/// the publish transport and reads what the subscriber and the publisher (PLIs) get. The worker's clock is a
/// <see cref="ManualClock"/>, moved only inside <see cref="OnWorkerAsync"/>, so rates, silences and allocation
/// times are exact.
/// </summary>
internal sealed class SimulcastHarness : IAsyncDisposable, IMediaPeerListener
{
    public const uint ConsumerSsrc = 0x2222_0001;
    private const int MidId = 4;
    private const int RidId = 10;
    private const int RepairedRidId = 11;
    private const int RtxPayloadType = 97;

    private readonly Peer _publisherPeer = new();
    private readonly Peer _subscriberPeer = new();
    private readonly SrtpContext _toServer;
    private readonly SrtpContext _fromServerToPublisher;
    private readonly SrtpContext _fromServerToSubscriber;
    private readonly SrtpContext _fromSubscriber;
    private readonly byte[] _send = new byte[1500];

    private readonly SrtpKeyPair _subscriberKeys;

    private SimulcastHarness(string codec, IReadOnlyList<string> rids, IReadOnlyList<SignalledStream> streams, bool subscriberConnected = true, bool nack = false)
    {
        Clock = new ManualClock();
        Metrics = new MediaMetrics(Prometheus.Metrics.NewCustomRegistry());
        Worker = new MediaWorker(new MediaOptions { Port = 0, BindAddress = "127.0.0.1" }, Clock, Metrics, NullLogger<MediaWorker>.Instance);
        Dtls = DtlsContext.Create(DtlsCertificate.Generate(), DtlsRole.Server);
        var publisherKeys = new SrtpKeyPair(TestSrtpKeys.FromSeed(1), TestSrtpKeys.FromSeed(2));
        var subscriberKeys = _subscriberKeys = new SrtpKeyPair(TestSrtpKeys.FromSeed(3), TestSrtpKeys.FromSeed(4));
        _toServer = new SrtpContext(publisherKeys.Remote);
        _fromServerToPublisher = new SrtpContext(publisherKeys.Local);
        _fromServerToSubscriber = new SrtpContext(subscriberKeys.Local);
        _fromSubscriber = new SrtpContext(subscriberKeys.Remote);
        Worker.InvokeAsync(() =>
        {
            Router = Worker.CreateRouter("test", Dtls);
            Publisher = Router.Publisher("publisher", this);
            var clockRate = 90000;
            var track = new PublishedTrack("1", MediaKind.Video,
                new NegotiatedCodec(96, codec, clockRate, null, new FormatParameters(), nack ? [Sfu.Media.Sdp.RtcpFeedback.Nack] : [], RtxPayloadType),
                new RtpHeaderExtensionIds(Mid: MidId, RtpStreamId: RidId, RepairedRtpStreamId: RepairedRidId),
                streams, rids, "stream", "video", "test");
            Producer = Router.Publish(Publisher, "peer:1", track);
            KeyedTransportShortcut.Connect(Publisher.Transport, _publisherPeer.Address, publisherKeys);
            Subscriber = Router.Subscriber("subscriber", this);
            if (subscriberConnected) ConnectSubscriber();
            Consumer = Subscriber.Consume(Producer, new ConsumerParameters("0", ConsumerSsrc, 0x3333_0001, 100, 101, new RtpHeaderExtensionIds(Mid: 1)));
        }).Wait();
    }

    public ManualClock Clock { get; }

    public MediaMetrics Metrics { get; }

    public MediaWorker Worker { get; }

    public DtlsContext Dtls { get; }

    public Router Router { get; private set; } = null!;

    public PublisherMedia Publisher { get; private set; } = null!;

    public Producer Producer { get; private set; } = null!;

    public SubscriberMedia Subscriber { get; private set; } = null!;

    public Consumer Consumer { get; private set; } = null!;

    /// <summary>What the peer listener was told about layer changes, in order.</summary>
    public List<(int Layer, bool Paused, LayerChangeReason Reason)> LayerEvents { get; } = [];

    public static SimulcastHarness WithRids(string codec, params string[] rids) => new(codec, rids, []);

    /// <summary>Rid layers of a publisher that negotiated NACK (and RTX): the server repairs its losses.</summary>
    public static SimulcastHarness WithRidsAndNack(string codec, params string[] rids) => new(codec, rids, [], nack: true);

    /// <summary>One stream, learned by its mid: for VP9 the spatial layers inside it (SVC) are what a subscriber picks from.</summary>
    public static SimulcastHarness WithOneStream(string codec, bool nack = false) => new(codec, [], [], nack: nack);

    public static SimulcastHarness WithSsrcGroup(string codec, params SignalledStream[] streams) => new(codec, [], streams);

    /// <summary>A track without simulcast whose subscriber is still connecting: <see cref="ConnectSubscriber"/> finishes it.</summary>
    public static SimulcastHarness WithSubscriberConnectingLater(string codec) => new(codec, [], [], subscriberConnected: false);

    /// <summary>On the worker: the subscriber's transport selects its path and is keyed, as a finished ICE and DTLS would.</summary>
    public void ConnectSubscriber() => KeyedTransportShortcut.Connect(Subscriber.Transport, _subscriberPeer.Address, _subscriberKeys);

    /// <summary>Runs <paramref name="step"/> on the worker thread, so nothing the worker does on its own interleaves.</summary>
    public Task OnWorkerAsync(Action step) => Worker.InvokeAsync(step);

    /// <summary>On the worker: one packet of a layer, as the publisher would send it (mid and rid extensions on every packet).</summary>
    /// <param name="temporalId">For VP8: a descriptor with this TID (and no keyframe header), as a temporal-layer encoder writes it.</param>
    public void Receive(uint ssrc, string? rid, ushort sequence, uint timestamp, bool keyframe, bool startOfFrame, bool marker, bool repaired = false,
        int? temporalId = null)
    {
        var header = new RtpHeaderWriter(_send, 96, sequence, timestamp, ssrc, marker);
        header.AddExtension(MidId, "1"u8);
        if (rid is not null) header.AddExtension(repaired ? RepairedRidId : RidId, Encoding.ASCII.GetBytes(rid));
        var at = header.Finish();
        at += Producer.VideoCodec == Sfu.Media.Rtp.RtpVideoCodec.H264 ? WriteH264(_send.AsSpan(at), keyframe, startOfFrame)
            : temporalId is { } tid ? WriteVp8DeltaWithTemporalId(_send.AsSpan(at), startOfFrame, tid)
            : Vp8Payload.Write(_send.AsSpan(at), 200, (ushort)(sequence & 0x7FFF), startOfFrame, keyframe, 0x55);
        if (_toServer.Protect(_send, at, out var length) != SrtpStatus.Ok) throw new InvalidOperationException("protect failed");
        Publisher.Transport.ReceiveRtpOrRtcp(_send.AsSpan(0, length), _publisherPeer.Address);
    }

    /// <summary>
    /// On the worker: one packet of a VP9 SVC stream (RFC 9628, non-flexible mode: 15-bit picture id, layer indices,
    /// TL0PICIDX); the first packet of a keyframe also carries a scalability structure of <paramref name="spatialLayers"/>
    /// layers, 160x120 doubling upwards. The VP9 data after the descriptor is filler.
    /// </summary>
    public void ReceiveVp9(uint ssrc, ushort sequence, uint timestamp, int spatialId, int temporalId, bool keyframe, bool startOfLayerFrame,
        bool endOfLayerFrame, bool marker, int spatialLayers = 3)
    {
        var header = new RtpHeaderWriter(_send, 96, sequence, timestamp, ssrc, marker);
        header.AddExtension(MidId, "1"u8);
        var at = header.Finish();
        at += WriteVp9(_send.AsSpan(at), timestamp, spatialId, temporalId, keyframe, startOfLayerFrame, endOfLayerFrame, spatialLayers);
        if (_toServer.Protect(_send, at, out var length) != SrtpStatus.Ok) throw new InvalidOperationException("protect failed");
        Publisher.Transport.ReceiveRtpOrRtcp(_send.AsSpan(0, length), _publisherPeer.Address);
    }

    /// <summary>
    /// On the worker: the RTX retransmission (RFC 4588) of a packet of a one-stream track, learned as its repair stream
    /// by payload type; the packet as <see cref="ReceiveVp9"/> writes it.
    /// </summary>
    public void ReceiveVp9Retransmission(uint rtxSsrc, ushort rtxSequence, ushort originalSequence, uint timestamp, int spatialId, int temporalId,
        bool startOfLayerFrame, bool endOfLayerFrame, bool marker)
    {
        var header = new RtpHeaderWriter(_send, RtxPayloadType, rtxSequence, timestamp, rtxSsrc, marker);
        header.AddExtension(MidId, "1"u8);
        var at = header.Finish();
        BinaryPrimitives.WriteUInt16BigEndian(_send.AsSpan(at), originalSequence);
        at += 2 + WriteVp9(_send.AsSpan(at + 2), timestamp, spatialId, temporalId, keyframe: false, startOfLayerFrame, endOfLayerFrame, spatialLayers: 3);
        if (_toServer.Protect(_send, at, out var length) != SrtpStatus.Ok) throw new InvalidOperationException("protect failed");
        Publisher.Transport.ReceiveRtpOrRtcp(_send.AsSpan(0, length), _publisherPeer.Address);
    }

    private static int WriteVp9(Span<byte> destination, uint timestamp, int spatialId, int temporalId, bool keyframe, bool startOfLayerFrame,
        bool endOfLayerFrame, int spatialLayers)
    {
        var payload = destination[..200];
        payload.Fill(0x55);
        var structure = keyframe && spatialId == 0 && startOfLayerFrame;
        payload[0] = (byte)(0xA0 | (keyframe ? 0 : 0x40) | (startOfLayerFrame ? 0x08 : 0) | (endOfLayerFrame ? 0x04 : 0) | (structure ? 0x02 : 0));
        BinaryPrimitives.WriteUInt16BigEndian(payload[1..], (ushort)(0x8000 | (timestamp / 3000 & 0x7FFF)));
        payload[3] = (byte)((temporalId << 5) | (spatialId << 1) | (spatialId > 0 ? 1 : 0));
        payload[4] = 0; // TL0PICIDX
        if (structure)
        {
            payload[5] = (byte)(((spatialLayers - 1) << 5) | 0x10); // N_S, Y
            for (var i = 0; i < spatialLayers; i++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(payload[(6 + (4 * i))..], (ushort)(160 << i));
                BinaryPrimitives.WriteUInt16BigEndian(payload[(8 + (4 * i))..], (ushort)(120 << i));
            }
        }
        return payload.Length;
    }

    /// <summary>On the worker: a packet of the stream whose payload is exactly <paramref name="payload"/>.</summary>
    public void DeliverRawVp9(uint ssrc, ushort sequence, uint timestamp, byte[] payload)
    {
        var header = new RtpHeaderWriter(_send, 96, sequence, timestamp, ssrc, marker: true);
        header.AddExtension(MidId, "1"u8);
        var at = header.Finish();
        payload.CopyTo(_send.AsSpan(at));
        if (_toServer.Protect(_send, at + payload.Length, out var length) != SrtpStatus.Ok) throw new InvalidOperationException("protect failed");
        Publisher.Transport.ReceiveRtpOrRtcp(_send.AsSpan(0, length), _publisherPeer.Address);
    }

    /// <summary>On the worker: the subscriber reports these of its packets lost (a generic NACK for the consumer's SSRC).</summary>
    public void SubscriberNacks(params ushort[] lost)
    {
        var buffer = new byte[1500];
        if (!RtcpNack.TryWrite(buffer, 0x5555_0001, ConsumerSsrc, lost, out var written)) throw new InvalidOperationException("NACK did not fit");
        if (_fromSubscriber.ProtectRtcp(buffer, written, out var length) != SrtpStatus.Ok) throw new InvalidOperationException("protect failed");
        Subscriber.Transport.ReceiveRtpOrRtcp(buffer.AsSpan(0, length), _subscriberPeer.Address);
    }

    /// <summary>
    /// On the worker: a VP8 delta packet handed straight to the producer's layer, past the transport and its SRTP replay
    /// check, as a packet relayed from another worker arrives.
    /// </summary>
    public void DeliverToProducer(int layer, ushort sequence, uint timestamp)
    {
        var header = new RtpHeaderWriter(_send, 96, sequence, timestamp, Producer.Layers[layer].Ssrc!.Value, marker: true);
        header.AddExtension(MidId, "1"u8);
        var at = header.Finish();
        at += Vp8Payload.Write(_send.AsSpan(at), 200, sequence, startOfFrame: true, keyframe: false, 0x55);
        if (!Sfu.Media.Rtp.RtpPacket.TryParse(_send.AsSpan(0, at), out var packet)) throw new InvalidOperationException("unparsable");
        Producer.ReceiveRtp(Producer.Layers[layer], packet, Clock.GetTimestamp());
    }

    /// <summary>On the worker: an RTX retransmission (RFC 4588) of a layer's packet, naming the layer by repaired-rid.</summary>
    public void ReceiveRetransmission(uint rtxSsrc, string rid, ushort rtxSequence, ushort originalSequence, uint timestamp)
    {
        var header = new RtpHeaderWriter(_send, RtxPayloadType, rtxSequence, timestamp, rtxSsrc, marker: true);
        header.AddExtension(MidId, "1"u8);
        header.AddExtension(RepairedRidId, Encoding.ASCII.GetBytes(rid));
        var at = header.Finish();
        BinaryPrimitives.WriteUInt16BigEndian(_send.AsSpan(at), originalSequence);
        at += 2 + Vp8Payload.Write(_send.AsSpan(at + 2), 200, (ushort)(originalSequence & 0x7FFF), true, false, 0x55);
        if (_toServer.Protect(_send, at, out var length) != SrtpStatus.Ok) throw new InvalidOperationException("protect failed");
        Publisher.Transport.ReceiveRtpOrRtcp(_send.AsSpan(0, length), _publisherPeer.Address);
    }

    /// <summary>On the worker: the transports' timers at the clock's current time (allocation included when due).</summary>
    public void Tick()
    {
        var now = Clock.GetTimestamp();
        Publisher.Transport.OnTick(now);
        Subscriber.Transport.OnTick(now);
    }

    /// <summary>RTP the subscriber got since the last call: (sequence, timestamp, SSRC).</summary>
    /// <param name="replays">Also packets its SRTP would refuse as replays (read from their clear headers).</param>
    public List<(ushort Sequence, uint Timestamp, uint Ssrc)> TakeSubscriberRtp(bool replays = false) =>
        [.. TakeSubscriberPackets(replays).Select(p => (p.Sequence, p.Timestamp, p.Ssrc))];

    /// <summary>RTP the subscriber got since the last call, decrypted: header fields and the payload (replays as they came).</summary>
    public List<(ushort Sequence, uint Timestamp, uint Ssrc, bool Marker, byte PayloadType, byte[] Payload)> TakeSubscriberPackets(bool replays = false)
    {
        var packets = new List<(ushort, uint, uint, bool, byte, byte[])>();
        foreach (var datagram in _subscriberPeer.Drain())
        {
            if (datagram[1] is >= 192 and <= 223) continue;
            var decrypted = _fromServerToSubscriber.Unprotect(datagram, datagram.Length, out var length) == SrtpStatus.Ok;
            if (!decrypted && !replays) continue;
            var payload = decrypted && Sfu.Media.Rtp.RtpPacket.TryParse(datagram.AsSpan(0, length), out var rtp) ? rtp.Payload.ToArray() : [];
            packets.Add((BinaryPrimitives.ReadUInt16BigEndian(datagram.AsSpan(2)), BinaryPrimitives.ReadUInt32BigEndian(datagram.AsSpan(4)),
                BinaryPrimitives.ReadUInt32BigEndian(datagram.AsSpan(8)), (datagram[1] & 0x80) != 0, (byte)(datagram[1] & 0x7F), payload));
        }
        return packets;
    }

    /// <summary>Media SSRCs of the PLIs the publisher got since the last call.</summary>
    public List<uint> TakePublisherPlis() => TakePublisherFeedback().Plis;

    /// <summary>The PLIs (media SSRC) and NACKed packets (media SSRC, sequence number) the publisher got since the last call.</summary>
    public (List<uint> Plis, List<(uint Ssrc, ushort Sequence)> Nacked) TakePublisherFeedback()
    {
        var plis = new List<uint>();
        var nacked = new List<(uint, ushort)>();
        var lost = new ushort[256];
        foreach (var datagram in _publisherPeer.Drain())
        {
            if (datagram[1] is not (>= 192 and <= 223)) continue;
            if (_fromServerToPublisher.UnprotectRtcp(datagram, datagram.Length, out var length) != SrtpStatus.Ok) continue;
            var reader = new RtcpCompoundReader(datagram.AsSpan(0, length));
            while (reader.TryReadNext(out var header, out var packet))
            {
                if (header.PacketType == RtcpPacketType.PayloadFeedback && header.Count == RtcpPacketType.FmtPli && RtcpPli.TryParse(packet, out var pli))
                    plis.Add(pli.MediaSsrc);
                if (RtcpNack.TryParse(packet, out var nack))
                {
                    foreach (var sequence in lost.AsSpan(0, nack.CopyLostSequenceNumbers(lost))) nacked.Add((nack.MediaSsrc, sequence));
                }
            }
        }
        return (plis, nacked);
    }

    void IMediaPeerListener.OnMediaActivity() { }

    void IMediaPeerListener.OnMediaPathLost(TransportDirection direction) { }

    void IMediaPeerListener.OnTrackLayerChanged(string trackId, int layer, int layers, bool paused, LayerChangeReason reason) =>
        LayerEvents.Add((layer, paused, reason));

    public async ValueTask DisposeAsync()
    {
        await Worker.InvokeAsync(Router.Dispose);
        Worker.Dispose();
        _publisherPeer.Dispose();
        _subscriberPeer.Dispose();
        _toServer.Dispose();
        _fromServerToPublisher.Dispose();
        _fromServerToSubscriber.Dispose();
        _fromSubscriber.Dispose();
        Dtls.Dispose();
    }

    /// <summary>A VP8 delta frame packet whose descriptor has the T bit and a TID (RFC 7741 section 4.2).</summary>
    private static int WriteVp8DeltaWithTemporalId(Span<byte> destination, bool startOfFrame, int temporalId)
    {
        destination[..200].Fill(0x55);
        destination[0] = (byte)(0x80 | (startOfFrame ? 0x10 : 0)); // X, S, PID 0
        destination[1] = 0x20;                                     // T: TID present
        destination[2] = (byte)(temporalId << 6);
        destination[3] = 0x01;                                     // frame tag: P=1, an inter frame
        return 200;
    }

    /// <summary>One H.264 packet: an IDR slice (type 5) or a non-IDR slice (type 1), or a continuation of either.</summary>
    private static int WriteH264(Span<byte> destination, bool keyframe, bool startOfFrame)
    {
        destination[..200].Fill(0x55);
        if (startOfFrame) destination[0] = (byte)(keyframe ? 0x65 : 0x41);
        else
        {
            destination[0] = 0x7C; // FU-A, not the first fragment
            destination[1] = (byte)(keyframe ? 0x05 : 0x01);
        }
        return 200;
    }

    /// <summary>A client's loopback socket; everything the server sent it is read without blocking.</summary>
    private sealed class Peer : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

        public Peer()
        {
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Address = _socket.LocalEndPoint!.Serialize();
        }

        public SocketAddress Address { get; }

        public List<byte[]> Drain()
        {
            var datagrams = new List<byte[]>();
            var buffer = new byte[2048];
            // Sends happened on the worker before the step returned; loopback delivers them at once.
            while (_socket.Poll(TimeSpan.FromMilliseconds(50), SelectMode.SelectRead))
            {
                var length = _socket.Receive(buffer);
                datagrams.Add(buffer.AsSpan(0, length).ToArray());
            }
            return datagrams;
        }

        public void Dispose() => _socket.Dispose();
    }
}
