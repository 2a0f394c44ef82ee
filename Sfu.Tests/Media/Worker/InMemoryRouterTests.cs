using System.Buffers.Binary;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Sfu.Client.Media;
using Sfu.Media;
using Sfu.Media.Diagnostics;
using Sfu.Media.Dtls;
using Sfu.Media.Rtcp;
using Sfu.Media.Rtp;
using Sfu.Media.Routing;
using Sfu.Media.Sdp;
using Sfu.Media.Srtp;
using Sfu.Media.Stun;
using Sfu.Media.Transports;
using Sfu.Media.Worker;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Worker;

/// <summary>
/// A real media worker and a room's router on an in-memory network: clients pass real signed ICE checks and send real
/// SRTP through the worker's dispatch and routing table, with no socket anywhere. Only DTLS is skipped (transports are
/// keyed directly). Covers the routing and rebinding rules end to end inside the media plane.
/// </summary>
public sealed class InMemoryRouterTests
{
    private const uint PublisherSsrc = 0x1111_0001;
    private const uint PublisherRtxSsrc = 0x1111_0002;
    private const uint ConsumerSsrc = 0x2222_0001;
    private const ushort FirstSequence = 1000;
    private static readonly IPEndPoint ServerAddress = new(IPAddress.Parse("10.0.0.1"), 50000);

    private InMemoryNetwork _network = null!;
    private InMemoryNetwork.WorkerPort _port = null!;
    private MediaMetrics _metrics = null!;
    private ManualClock _clock = null!;
    private MediaWorker _worker = null!;
    private DtlsContext _dtls = null!;
    private Router _router = null!;
    private Producer _producer = null!;
    private readonly List<IDisposable> _contexts = [];
    private readonly byte[] _packet = new byte[1500];
    private ushort _sequence;

    [SetUp]
    public async Task StartWorker()
    {
        _sequence = FirstSequence;
        _network = new InMemoryNetwork();
        _port = _network.BindWorker(ServerAddress);
        _metrics = new MediaMetrics(Prometheus.Metrics.NewCustomRegistry());
        _clock = new ManualClock();
        _worker = new MediaWorker(new MediaOptions { TcpEnabled = false }, _clock, _metrics, NullLogger<MediaWorker>.Instance, _port);
        _dtls = DtlsContext.Create(DtlsCertificate.Generate(), DtlsRole.Server);
        await _worker.InvokeAsync(() =>
        {
            _router = _worker.CreateRouter("room", _dtls);
            var publisher = _router.Publisher("alice", Quiet);
            var track = new PublishedTrack("0", MediaKind.Video,
                new NegotiatedCodec(96, CodecNames.Vp8, 90000, null, new FormatParameters(), [Sfu.Media.Sdp.RtcpFeedback.Nack], 97),
                new RtpHeaderExtensionIds(Mid: 4), [new SignalledStream(PublisherSsrc, PublisherRtxSsrc)], [], "stream", "video", "test");
            _producer = _router.Publish(publisher, "alice:0", track);
        });
    }

    [TearDown]
    public void StopWorker()
    {
        _worker.Dispose();
        _dtls.Dispose();
        foreach (var context in _contexts) context.Dispose();
        _contexts.Clear();
    }

    [Test]
    public async Task PublishedVideo_ReachesEverySubscriber_WithItsOwnSsrc()
    {
        var publisher = await ConnectPublisherAsync("192.0.2.1");
        var bob = await ConnectSubscriberAsync("bob", "192.0.2.2", ConsumerSsrc);
        var carol = await ConnectSubscriberAsync("carol", "192.0.2.3", ConsumerSsrc + 1);

        await PublishAsync(publisher, count: 3);

        Assert.Multiple(() =>
        {
            Assert.That(bob.ReceivedSsrcs(), Is.EqualTo(new[] { ConsumerSsrc, ConsumerSsrc, ConsumerSsrc }));
            Assert.That(carol.ReceivedSsrcs(), Is.EqualTo(new[] { ConsumerSsrc + 1, ConsumerSsrc + 1, ConsumerSsrc + 1 }));
        });
    }

    [Test]
    public async Task PublisherLosesPackets_TheServerNacksThem_AndForwardsTheirRetransmissionsInTheirPlace()
    {
        var publisher = await ConnectPublisherAsync("192.0.2.1");
        var bob = await ConnectSubscriberAsync("bob", "192.0.2.2", ConsumerSsrc);
        await PublishAsync(publisher, count: 2);
        publisher.ReceivedFeedback();
        _sequence += 2; // 1002 and 1003 lost on the publisher's uplink
        await PublishAsync(publisher, count: 2);
        var nacked = publisher.ReceivedFeedback().Nacked;

        SendVideo(publisher, 1003, rtxSequence: 500);
        SendVideo(publisher, 1002, rtxSequence: 501);
        await HandledAsync();

        Assert.Multiple(() =>
        {
            Assert.That(nacked, Is.EqualTo(new ushort[] { 1002, 1003 }), "asked for at once");
            Assert.That(bob.ReceivedPackets(), Is.EqualTo(new (ushort, byte)[] { (1000, 0xE8), (1001, 0xE9), (1004, 0xEC), (1005, 0xED), (1003, 0xEB), (1002, 0xEA) }),
                "the retransmissions go out restored, in the numbers they left free");
            Assert.That(_metrics.UplinkRepair.NacksSent, Is.EqualTo(1));
            Assert.That(_metrics.UplinkRepair.PacketsRecovered, Is.EqualTo(2));
        });
    }

    [Test]
    public async Task RetransmissionNobodyAskedFor_IsNotForwardedAgain_ButCounted()
    {
        var publisher = await ConnectPublisherAsync("192.0.2.1");
        var bob = await ConnectSubscriberAsync("bob", "192.0.2.2", ConsumerSsrc);
        await PublishAsync(publisher, count: 3);
        bob.ReceivedPackets();

        SendVideo(publisher, 1001, rtxSequence: 7); // the publisher probing with a packet that arrived
        SendVideo(publisher, 1001); // or the network duplicating one
        await HandledAsync();

        Assert.Multiple(() =>
        {
            Assert.That(bob.ReceivedPackets(), Is.Empty, "bob has both already");
            Assert.That(_metrics.DroppedCount(DropReason.UnrequestedRetransmission), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task UnansweredNack_IsRepeatedEachRoundTrip_ThenGivenUp_AndAKeyframeAskedFor()
    {
        var publisher = await ConnectPublisherAsync("192.0.2.1");
        var bob = await ConnectSubscriberAsync("bob", "192.0.2.2", ConsumerSsrc);
        await PublishAsync(publisher, count: 1);
        _clock.Advance(TimeSpan.FromSeconds(2)); // the keyframe requests of bob's start are long past
        _sequence++;
        await PublishAsync(publisher, count: 1);
        var requests = publisher.ReceivedFeedback().Nacked.Count;

        for (var retry = 1; retry < NackGenerator.DefaultMaxRetries; retry++)
        {
            _clock.Advance(NackGenerator.DefaultRoundTrip);
            await Eventually.HoldsAsync(() => Task.FromResult((requests += publisher.ReceivedFeedback().Nacked.Count) > retry), "the worker's tick repeating the NACK");
        }
        _clock.Advance(NackGenerator.DefaultRoundTrip);
        var plis = 0;
        await Eventually.HoldsAsync(() => Task.FromResult((plis += publisher.ReceivedFeedback().Plis) > 0), "a keyframe request once the packet is given up");

        Assert.Multiple(() =>
        {
            Assert.That(requests, Is.EqualTo(NackGenerator.DefaultMaxRetries));
            Assert.That(_metrics.UplinkRepair.GivenUp(NackGiveUpReason.Retries), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task SubscriberMovesToANewAddress_NominatedCheck_MovesItsMediaThere_AndResendsWhatWentToTheOldOne()
    {
        var publisher = await ConnectPublisherAsync("192.0.2.1");
        var bob = await ConnectSubscriberAsync("bob", "192.0.2.2", ConsumerSsrc);
        await PublishAsync(publisher, count: 2);
        Assert.That(bob.ReceivedSsrcs(), Has.Count.EqualTo(2));

        bob.Client.MoveTo(new IPEndPoint(IPAddress.Parse("198.51.100.9"), 40000));
        await CheckAsync(bob, useCandidate: true);
        // Sent again under their first sequence numbers, so bob's SRTP would call them replays: read their headers.
        var resent = bob.Client.Drain().Where(d => d[0] >= 128 && d[1] is < 192 or > 223).Select(d => BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(8))).ToList();
        await PublishAsync(publisher, count: 1);

        var selected = await _worker.InvokeAsync(() => _router.FindSubscriber("bob")!.Transport.SelectedAddress);
        Assert.Multiple(() =>
        {
            Assert.That(selected, Is.EqualTo(bob.Client.Address));
            Assert.That(resent, Is.EqualTo(new[] { ConsumerSsrc, ConsumerSsrc }), "the last 300 ms of video go again, to the new address");
            Assert.That(bob.ReceivedSsrcs(), Is.EqualTo(new[] { ConsumerSsrc }), "new media goes to the new address");
        });
    }

    [Test]
    public async Task CheckFromAnAddressAnotherTransportUsed_TakesTheAddress_AndTheOldOwnerForgetsIt()
    {
        var publisher = await ConnectPublisherAsync("192.0.2.1");
        var bob = await ConnectSubscriberAsync("bob", "192.0.2.2", ConsumerSsrc);
        // A NAT hands bob's public port to carol: carol's first check comes from bob's address.
        bob.Client.MoveTo(new IPEndPoint(IPAddress.Parse("192.0.2.99"), 1));
        var carolClient = _network.BindClient(new IPEndPoint(IPAddress.Parse("192.0.2.2"), 5000));
        var carol = await ConnectSubscriberAsync("carol", carolClient, ConsumerSsrc + 1);

        await PublishAsync(publisher, count: 1);

        var bobSelected = await _worker.InvokeAsync(() => _router.FindSubscriber("bob")!.Transport.SelectedAddress);
        Assert.Multiple(() =>
        {
            Assert.That(bobSelected, Is.Null, "bob's transport no longer sends to an address that carol proved is hers");
            Assert.That(carol.ReceivedSsrcs(), Is.EqualTo(new[] { ConsumerSsrc + 1 }), "and carol gets only her own stream there");
        });
    }

    [Test]
    public async Task MediaFromAnAddressThatPassedNoCheck_IsDroppedAndCounted()
    {
        var publisher = await ConnectPublisherAsync("192.0.2.1");
        var bob = await ConnectSubscriberAsync("bob", "192.0.2.2", ConsumerSsrc);
        publisher.Client.MoveTo(new IPEndPoint(IPAddress.Parse("203.0.113.5"), 7000));

        await PublishAsync(publisher, count: 2);

        Assert.Multiple(() =>
        {
            Assert.That(_metrics.DroppedCount(DropReason.UnknownSource), Is.EqualTo(2));
            Assert.That(bob.ReceivedSsrcs(), Is.Empty);
        });
    }

    [Test]
    public async Task ClosingThePublisher_StopsItsTrack_AndTheSubscribersConsumer()
    {
        var publisher = await ConnectPublisherAsync("192.0.2.1");
        var bob = await ConnectSubscriberAsync("bob", "192.0.2.2", ConsumerSsrc);

        await _worker.InvokeAsync(() => _router.ClosePeer("alice"));

        var (track, consumer) = await _worker.InvokeAsync(() => (_router.Find("alice:0"), _router.FindSubscriber("bob")!.FindConsumer("alice:0")));
        await CheckAsync(publisher, useCandidate: true);
        Assert.Multiple(() =>
        {
            Assert.That(track, Is.Null);
            Assert.That(consumer, Is.Null);
            Assert.That(_metrics.DroppedCount(DropReason.UnknownSource), Is.EqualTo(1), "the closed transport's ufrag leads nowhere");
        });
    }

    [Test]
    public async Task DisposedRouter_LeavesTheWorker_WithEverythingItOwned()
    {
        var bob = await ConnectSubscriberAsync("bob", "192.0.2.2", ConsumerSsrc);

        var routers = await _worker.InvokeAsync(() =>
        {
            _router.Dispose();
            return _worker.RouterCount;
        });
        await CheckAsync(bob, useCandidate: true);

        Assert.Multiple(() =>
        {
            Assert.That(routers, Is.Zero);
            Assert.That(_metrics.DroppedCount(DropReason.UnknownSource), Is.EqualTo(1));
        });
    }

    private async Task<Peer> ConnectPublisherAsync(string address)
    {
        var keys = new SrtpKeyPair(TestSrtpKeys.FromSeed(1), TestSrtpKeys.FromSeed(2));
        var transport = await _worker.InvokeAsync(() => _router.FindPublisher("alice")!.Transport);
        var peer = new Peer(_network.BindClient(new IPEndPoint(IPAddress.Parse(address), 5000)), transport, Own(new SrtpContext(keys.Remote)), Own(new SrtpContext(keys.Local)));
        await CheckAsync(peer, useCandidate: true);
        await _worker.InvokeAsync(() => transport.StartSrtp(keys));
        return peer;
    }

    private Task<Peer> ConnectSubscriberAsync(string peerId, string address, uint ssrc) =>
        ConnectSubscriberAsync(peerId, _network.BindClient(new IPEndPoint(IPAddress.Parse(address), 5000)), ssrc);

    private async Task<Peer> ConnectSubscriberAsync(string peerId, InMemoryNetwork.Client client, uint ssrc)
    {
        var keys = new SrtpKeyPair(TestSrtpKeys.FromSeed((int)ssrc), TestSrtpKeys.FromSeed((int)ssrc + 1));
        var transport = await _worker.InvokeAsync(() =>
        {
            var subscriber = _router.Subscriber(peerId, Quiet);
            _router.UpdateConsumers(subscriber, [("alice:0", new ConsumerParameters("0", ssrc, null, 100, null, new RtpHeaderExtensionIds(Mid: 1)))]);
            return subscriber.Transport;
        });
        var peer = new Peer(client, transport, Own(new SrtpContext(keys.Local)));
        await CheckAsync(peer, useCandidate: true);
        await _worker.InvokeAsync(() => transport.StartSrtp(keys));
        peer.Client.Drain();
        return peer;
    }

    /// <summary>A signed ICE check from the peer's current address, as its ICE agent sends it; returns once the worker handled it.</summary>
    private async Task CheckAsync(Peer peer, bool useCandidate)
    {
        var check = new byte[IceStunMessages.MaxMessageLength];
        var transaction = new byte[12];
        StunMessageWriter.NewTransactionId(transaction);
        var username = Encoding.ASCII.GetBytes($"{peer.Ice.Ufrag}:client");
        var length = IceStunMessages.WriteBindingRequest(check, transaction, username, 2_000_000_000, 7, useCandidate, peer.Ice.PasswordBytes);
        peer.Client.Send(check.AsSpan(0, length), ServerAddress);
        await HandledAsync();
    }

    /// <summary>Video packets from the publisher, the first a keyframe (consumers start on one); returns once forwarded.</summary>
    private async Task PublishAsync(Peer publisher, int count)
    {
        for (var i = 0; i < count; i++) SendVideo(publisher, _sequence++);
        await HandledAsync();
    }

    /// <summary>
    /// One video packet, filled with the low byte of its sequence number; as an RTX retransmission (RFC 4588) when
    /// <paramref name="rtxSequence"/> is given.
    /// </summary>
    private void SendVideo(Peer publisher, ushort sequence, ushort? rtxSequence = null)
    {
        var header = rtxSequence is { } repair
            ? new RtpHeaderWriter(_packet, 97, repair, (uint)sequence * 3000, PublisherRtxSsrc, marker: true)
            : new RtpHeaderWriter(_packet, 96, sequence, (uint)sequence * 3000, PublisherSsrc, marker: true);
        header.AddExtension(4, "0"u8);
        var at = header.Finish();
        if (rtxSequence is not null)
        {
            BinaryPrimitives.WriteUInt16BigEndian(_packet.AsSpan(at), sequence);
            at += 2;
        }
        at += Vp8Payload.Write(_packet.AsSpan(at), 200, sequence, startOfFrame: true, keyframe: sequence == FirstSequence, fill: (byte)sequence);
        Assert.That(publisher.Srtp.Protect(_packet, at, out var length), Is.EqualTo(SrtpStatus.Ok));
        publisher.Client.Send(_packet.AsSpan(0, length), ServerAddress);
    }

    /// <summary>
    /// Returns once the worker has handled everything sent to it: a datagram it took is dispatched before the next command
    /// it runs, so an empty inbox and then one command round trip are enough.
    /// </summary>
    private async Task HandledAsync()
    {
        await Eventually.HoldsAsync(() => Task.FromResult(_port.IsDrained), "the worker taking its datagrams");
        await _worker.InvokeAsync(() => { });
    }

    private T Own<T>(T context) where T : IDisposable
    {
        _contexts.Add(context);
        return context;
    }

    private static readonly IMediaPeerListener Quiet = QuietMediaPeer.Instance;

    /// <summary>
    /// A client on the network with its transport's ICE credentials and its side of the SRTP keys: a subscriber's
    /// <paramref name="srtp"/> decrypts, a publisher's encrypts and its <paramref name="feedback"/> decrypts the server's RTCP.
    /// </summary>
    private sealed class Peer(InMemoryNetwork.Client client, WebRtcTransport transport, SrtpContext srtp, SrtpContext? feedback = null)
    {
        public InMemoryNetwork.Client Client { get; } = client;

        public IceCredentials Ice { get; } = transport.LocalIce;

        public SrtpContext Srtp { get; } = srtp;

        /// <summary>Sequence number and fill byte of the RTP packets that arrived since the last call (RTCP skipped).</summary>
        public List<(ushort Sequence, byte Fill)> ReceivedPackets()
        {
            var packets = new List<(ushort, byte)>();
            foreach (var datagram in Client.Drain())
            {
                if (datagram[0] < 128 || datagram[1] is >= 192 and <= 223) continue;
                if (Srtp.Unprotect(datagram, datagram.Length, out var length) == SrtpStatus.Ok)
                    packets.Add((BinaryPrimitives.ReadUInt16BigEndian(datagram.AsSpan(2)), datagram[length - 1]));
            }
            return packets;
        }

        /// <summary>What the server's RTCP since the last call asked of this publisher: the sequence numbers NACKed, and PLIs.</summary>
        public (List<ushort> Nacked, int Plis) ReceivedFeedback()
        {
            var nacked = new List<ushort>();
            var plis = 0;
            var lost = new ushort[256];
            foreach (var datagram in Client.Drain())
            {
                if (datagram[1] is < 192 or > 223 || feedback!.UnprotectRtcp(datagram, datagram.Length, out var length) != SrtpStatus.Ok) continue;
                var reader = new RtcpCompoundReader(datagram.AsSpan(0, length));
                while (reader.TryReadNext(out _, out var packet))
                {
                    if (RtcpNack.TryParse(packet, out var nack) && nack.MediaSsrc == PublisherSsrc) nacked.AddRange(lost[..nack.CopyLostSequenceNumbers(lost)]);
                    if (RtcpPli.TryParse(packet, out var pli) && pli.MediaSsrc == PublisherSsrc) plis++;
                }
            }
            return (nacked, plis);
        }

        /// <summary>SSRCs of the RTP packets that arrived since the last call (RTCP skipped).</summary>
        public List<uint> ReceivedSsrcs()
        {
            var ssrcs = new List<uint>();
            foreach (var datagram in Client.Drain())
            {
                if (datagram[0] < 128 || datagram[1] is >= 192 and <= 223) continue;
                if (Srtp.Unprotect(datagram, datagram.Length, out _) == SrtpStatus.Ok) ssrcs.Add(BinaryPrimitives.ReadUInt32BigEndian(datagram.AsSpan(8)));
            }
            return ssrcs;
        }
    }
}
