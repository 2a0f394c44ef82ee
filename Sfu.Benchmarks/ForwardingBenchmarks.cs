using System.Net;
using System.Net.Sockets;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Sfu.Client.Media;
using Sfu.Media;
using Sfu.Media.Diagnostics;
using Sfu.Media.Dtls;
using Sfu.Media.Routing;
using Sfu.Media.Sdp;
using Sfu.Media.Srtp;
using Sfu.Media.Stun;
using Sfu.Media.Transports;
using Sfu.Media.Udp;
using Sfu.Media.Worker;

namespace Sfu.Benchmarks;

/// <summary>
/// One received video packet through the whole media path, on the real types and the real worker thread:
/// SRTP unprotect on the publisher's transport, routing to the producer (packet cache, keyframe check), then per
/// consumer the header rewrite, SRTP protect with that subscriber's keys and a UDP send to a loopback socket that
/// a separate thread drains. The only shortcut is keying: transports get SRTP keys through
/// <see cref="WebRtcTransport.StartSrtp"/> instead of a DTLS handshake; their paths come from real signed ICE checks.
/// </summary>
/// <remarks>
/// Each invocation hands the worker <see cref="Batch"/> packets (pre-protected in the iteration setup, as a
/// publisher would have), so the one thread hop per invocation is spread over many packets. Packets are copied
/// into one receive buffer first, as the UDP receive would. The worker thread's own allocation during the batch
/// is measured too and printed at the end (BenchmarkDotNet's figure is for the process).
/// </remarks>
[MemoryDiagnoser]
public class ForwardingBenchmarks
{
    public const int Batch = 2048;
    private const int PacketLength = 1200;
    private const int PacketsPerFrame = 6; // ~1.5 Mbit/s at 30 fps in ~1200-byte packets
    private const uint PublisherSsrc = 0x1111_0001;

    [Params(1, 10)]
    public int Consumers { get; set; }

    [Params(SrtpProfile.AeadAes128Gcm, SrtpProfile.Aes128CmHmacSha1_80)]
    public SrtpProfile Profile { get; set; }

    /// <summary>Subscribers accept transport-cc: every packet gets a transport-wide number and a send-history entry.</summary>
    [Params(false, true)]
    public bool Estimation { get; set; }

    private MediaWorker _worker = null!;
    private DtlsContext _dtls = null!;
    private readonly List<Sink> _sinks = [];
    private Router _router = null!;
    private PublisherMedia _publisher = null!;
    private SrtpContext _publisherSide = null!;
    private SocketAddress _publisherAddress = null!;
    private readonly byte[][] _packets = new byte[Batch][];
    private readonly int[] _lengths = new int[Batch];
    private readonly byte[] _receiveBuffer = GC.AllocateArray<byte>(1600, pinned: true);
    private Func<long> _forwardBatch = null!;
    private ushort _sequence;
    private uint _timestamp;
    private long _packetNumber;
    private long _workerAllocated;
    private long _workerPackets;

    [GlobalSetup]
    public void Setup()
    {
        _worker = new MediaWorker(new MediaOptions { Port = 0, BindAddress = "127.0.0.1" }, TimeProvider.System,
            new MediaMetrics(Prometheus.Metrics.NewCustomRegistry()), NullLogger<MediaWorker>.Instance);
        _dtls = DtlsContext.Create(DtlsCertificate.Generate(), DtlsRole.Server);
        // One address per transport, as every real client has: an address that passes another transport's check
        // moves to that transport (a NAT gave its port to another client), so transports cannot share one.
        _publisherAddress = NewSink().Address;
        for (var i = 0; i < _packets.Length; i++) _packets[i] = GC.AllocateArray<byte>(1600, pinned: true);
        _forwardBatch = ForwardBatch;

        var publisherKey = NewKey(1);
        _publisherSide = new SrtpContext(publisherKey);
        _worker.InvokeAsync(() =>
        {
            var listener = new QuietPeer();
            _router = _worker.CreateRouter("bench", _dtls);
            _publisher = _router.Publisher("publisher", listener);
            var track = new PublishedTrack("1", MediaKind.Video,
                new NegotiatedCodec(96, CodecNames.Vp8, 90000, null, new FormatParameters(), [], 97),
                new RtpHeaderExtensionIds(Mid: 4, AbsSendTime: 2, TransportWideCc: 3),
                [new SignalledStream(PublisherSsrc, 0x1111_0002)], [], "stream", "video", "bench");
            var producer = _router.Publish(_publisher, "video", track);
            KeyedTransportShortcut.Connect(_publisher.Transport, _publisherAddress, new SrtpKeyPair(NewKey(2), publisherKey));
            for (var i = 0; i < Consumers; i++)
            {
                var subscriber = _router.Subscriber($"subscriber{i}", listener);
                KeyedTransportShortcut.Connect(subscriber.Transport, NewSink().Address, new SrtpKeyPair(NewKey(10 + i), NewKey(100 + i)));
                subscriber.Consume(producer, new ConsumerParameters("0", 0x2222_0000u + (uint)i, 0x3333_0000u + (uint)i, 100, 101,
                    new RtpHeaderExtensionIds(Mid: 1, AbsSendTime: 3, TransportWideCc: Estimation ? 5 : null)));
            }
        }).Wait();

        // Consumers start at a keyframe: send one, as the publisher would on the PLI they asked for.
        PrepareBatch(keyframeFirst: true);
        _worker.InvokeAsync(_forwardBatch).Wait();
        _workerAllocated = _workerPackets = 0;
    }

    [IterationSetup]
    public void ProtectNextBatch() => PrepareBatch(keyframeFirst: false);

    [Benchmark(OperationsPerInvoke = Batch)]
    public long ForwardOnePacket() => _worker.InvokeAsync(_forwardBatch).Result;

    [GlobalCleanup]
    public void Cleanup()
    {
        var forwarded = Consumers;
        Console.WriteLine($"// worker thread: {(_workerPackets == 0 ? 0 : (double)_workerAllocated / _workerPackets):F3} bytes allocated per received packet over {_workerPackets} packets to {forwarded} consumers; sinks got {_sinks.Sum(sink => sink.Received)} datagrams");
        _worker.InvokeAsync(_router.Dispose).Wait();
        _worker.Dispose();
        foreach (var sink in _sinks) sink.Dispose();
        _sinks.Clear();
        _publisherSide.Dispose();
        _dtls.Dispose();
    }

    /// <summary>Runs on the worker thread: what the receive loop does for each datagram of the batch.</summary>
    private long ForwardBatch()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var transport = _publisher.Transport;
        for (var i = 0; i < Batch; i++)
        {
            var length = _lengths[i];
            _packets[i].AsSpan(0, length).CopyTo(_receiveBuffer);
            transport.ReceiveRtpOrRtcp(_receiveBuffer.AsSpan(0, length), _publisherAddress);
        }
        _workerAllocated += GC.GetAllocatedBytesForCurrentThread() - before;
        _workerPackets += Batch;
        return _workerPackets;
    }

    /// <summary>The next <see cref="Batch"/> packets of a VP8 stream, protected as the publisher's SRTP would.</summary>
    private void PrepareBatch(bool keyframeFirst)
    {
        Span<byte> value = stackalloc byte[3];
        for (var i = 0; i < Batch; i++)
        {
            var inFrame = (int)(_packetNumber++ % PacketsPerFrame);
            var packet = _packets[i];
            var header = new RtpHeaderWriter(packet, 96, _sequence++, _timestamp, PublisherSsrc, marker: inFrame == PacketsPerFrame - 1);
            value[0] = 0x12; value[1] = 0x34; value[2] = 0x56;
            header.AddExtension(2, value);
            header.AddExtension(3, value[..2]);
            header.AddExtension(4, "1"u8);
            var at = header.Finish();
            at += Vp8Payload.Write(packet.AsSpan(at), PacketLength - at, 1, startOfFrame: inFrame == 0,
                keyframe: keyframeFirst && i == 0, fill: (byte)i);
            if (inFrame == PacketsPerFrame - 1) _timestamp += 3000;
            if (_publisherSide.Protect(packet, at, out _lengths[i]) != SrtpStatus.Ok) throw new InvalidOperationException("protect failed");
        }
    }

    private Sink NewSink()
    {
        var sink = new Sink();
        _sinks.Add(sink);
        return sink;
    }

    private SrtpMasterKey NewKey(int seed)
    {
        var random = new Random(seed);
        var key = new byte[Profile.KeyLength()];
        var salt = new byte[Profile.SaltLength()];
        random.NextBytes(key);
        random.NextBytes(salt);
        return new SrtpMasterKey(Profile, key, salt);
    }

    private sealed class QuietPeer : IMediaPeerListener
    {
        public void OnMediaActivity() { }

        public void OnMediaPathLost(TransportDirection direction) { }
    }
}

/// <summary>
/// The kernel's share, per 1230-byte datagram (a protected 1200-byte packet) from the media port to loopback sinks that
/// other threads drain: one <c>sendto</c> each (what the port did before it batched), queued on the port and flushed
/// with <c>sendmmsg</c> (what it does now), and one UDP GSO send per destination (<c>UDP_SEGMENT</c>: the kernel cuts
/// one large send into equal datagrams), which only fits datagrams of one size to one destination, such as a burst of
/// retransmissions. With 10 destinations the burst is 4 datagrams to each.
/// </summary>
[MemoryDiagnoser]
public class UdpSendBenchmarks
{
    private const int DatagramLength = 1230;
    private const int Burst = 40; // 40 × 1230 bytes stays under a UDP send's 64 KiB, and 40 splits evenly over 1 and 10
    private const int SolUdp = 17;
    private const int UdpSegment = 103;

    [Params(1, 10)]
    public int Destinations { get; set; }

    private UdpPort _port = null!;
    private Socket _plain = null!;
    private Socket _segmenting = null!;
    private readonly List<Sink> _sinks = [];
    private SocketAddress[] _addresses = [];
    private readonly byte[] _datagram = new byte[DatagramLength];
    private readonly byte[] _segmented = new byte[Burst * DatagramLength];

    [GlobalSetup]
    public void Setup()
    {
        _port = new UdpPort(IPAddress.Loopback, 0, new MediaMetrics(Prometheus.Metrics.NewCustomRegistry()));
        _plain = Bound();
        _segmenting = Bound();
        _segmenting.SetRawSocketOption(SolUdp, UdpSegment, BitConverter.GetBytes(DatagramLength));
        for (var i = 0; i < Destinations; i++) _sinks.Add(new Sink());
        _addresses = [.. _sinks.Select(sink => sink.Address)];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// sinks got {_sinks.Sum(sink => sink.Received)} datagrams");
        _port.Dispose();
        _plain.Dispose();
        _segmenting.Dispose();
        foreach (var sink in _sinks) sink.Dispose();
        _sinks.Clear();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Burst)]
    public void SendToEach()
    {
        for (var i = 0; i < Burst; i++) _plain.SendTo(_datagram, SocketFlags.None, _addresses[i % _addresses.Length]);
    }

    [Benchmark(OperationsPerInvoke = Burst)]
    public void QueueAndFlush()
    {
        for (var i = 0; i < Burst; i++) _port.TrySend(_datagram, _addresses[i % _addresses.Length]);
        _port.Flush();
    }

    [Benchmark(OperationsPerInvoke = Burst)]
    public void SegmentPerDestination()
    {
        var perDestination = Burst / _addresses.Length * DatagramLength;
        foreach (var address in _addresses) _segmenting.SendTo(_segmented.AsSpan(0, perDestination), SocketFlags.None, address);
    }

    private static Socket Bound()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { SendBufferSize = 4 * 1024 * 1024 };
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }
}

/// <summary>A loopback UDP socket whose thread reads and discards everything, so sends never find a full queue.</summary>
internal sealed class Sink : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 8 * 1024 * 1024 };
    private readonly Thread _thread;
    private long _received;

    public Sink()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Address = _socket.LocalEndPoint!.Serialize();
        _thread = new Thread(Drain) { IsBackground = true, Name = "bench-sink" };
        _thread.Start();
    }

    public SocketAddress Address { get; }

    public long Received => Interlocked.Read(ref _received);

    private void Drain()
    {
        var buffer = new byte[2048];
        try
        {
            while (true)
            {
                _socket.Receive(buffer.AsSpan());
                Interlocked.Increment(ref _received);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _thread.Join(TimeSpan.FromSeconds(1));
    }
}
