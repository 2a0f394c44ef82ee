using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Sfu.Client.Media;
using Sfu.Media;
using Sfu.Media.Diagnostics;
using Sfu.Media.Dtls;
using Sfu.Media.Routing;
using Sfu.Media.Sdp;
using Sfu.Media.Srtp;
using Sfu.Media.Transports;
using Sfu.Media.Worker;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Udp;

/// <summary>
/// The batched path end to end on the real worker: a publisher's socket sends bursts of SRTP video to the media
/// port (so the worker reads them with one recvmmsg), the worker forwards each packet to several subscribers whose
/// loopback sockets decrypt what arrives, and the sends leave in sendmmsg batches that fill up (a burst to every
/// subscriber is more than one batch) and are flushed at the end of the loop turn. Transports are keyed directly
/// (no DTLS), as in the forwarding benchmark.
/// </summary>
public sealed class BatchedForwardingTests
{
    private const uint PublisherSsrc = 0x1111_0001;
    private const int Subscribers = 5;
    private const int Bursts = 40;
    private const int PacketsPerBurst = 24; // × 5 subscribers: 120 sends per burst, more than one send batch
    private const int PacketsPerFrame = 6;

    [Test]
    public async Task EveryForwardedPacket_ReachesEverySubscriber_OnceAndInOrder()
    {
        await using var call = new FanOut(Subscribers);
        var sent = 0;
        for (var burst = 0; burst < Bursts; burst++)
        {
            for (var i = 0; i < PacketsPerBurst; i++) call.Publish(sent++);
            // The next burst waits for this one everywhere, so no socket queue on the way can overflow and lose
            // anything: a missing packet can only be the server's.
            if (!await call.AllReceivedAsync(sent)) break;
        }

        Assert.Multiple(() =>
        {
            foreach (var sink in call.Sinks)
            {
                var sequences = sink.Sequences;
                Assert.That(sequences, Has.Count.EqualTo(Bursts * PacketsPerBurst));
                var gaps = sequences.Zip(sequences.Skip(1), (a, b) => (ushort)(b - a)).Where(step => step != 1).ToList();
                Assert.That(gaps, Is.Empty, "each sequence number once, in order");
                Assert.That(sink.Undecryptable, Is.Zero);
            }
            Assert.That(call.Metrics.DroppedCount(DropReason.SendFailed), Is.Zero);
        });
    }

    /// <summary>One publisher and <c>n</c> subscribers of its video on a real worker, each with its own loopback socket.</summary>
    private sealed class FanOut : IAsyncDisposable
    {
        private readonly MediaWorker _worker;
        private readonly DtlsContext _dtls = DtlsContext.Create(DtlsCertificate.Generate(), DtlsRole.Server);
        private readonly Socket _publisher = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        private readonly SrtpContext _toServer;
        private readonly byte[] _packet = new byte[1500];
        private readonly IPEndPoint _server;
        private Router _router = null!;
        private PublisherMedia _publisherMedia = null!;

        public FanOut(int n)
        {
            Metrics = new MediaMetrics(Prometheus.Metrics.NewCustomRegistry());
            _worker = new MediaWorker(new MediaOptions { Port = 0, BindAddress = "127.0.0.1" }, TimeProvider.System, Metrics, NullLogger<MediaWorker>.Instance);
            _server = new IPEndPoint(IPAddress.Loopback, _worker.Port);
            _publisher.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var publisherKeys = new SrtpKeyPair(TestSrtpKeys.FromSeed(1), TestSrtpKeys.FromSeed(2));
            _toServer = new SrtpContext(publisherKeys.Remote);
            for (var i = 0; i < n; i++) Sinks.Add(new SubscriberSink(TestSrtpKeys.FromSeed(10 + i)));
            _worker.InvokeAsync(() =>
            {
                var listener = QuietMediaPeer.Instance;
                _router = _worker.CreateRouter("test", _dtls);
                _publisherMedia = _router.Publisher("publisher", listener);
                var track = new PublishedTrack("1", MediaKind.Video,
                    new NegotiatedCodec(96, CodecNames.Vp8, 90000, null, new FormatParameters(), [], 97),
                    new RtpHeaderExtensionIds(Mid: 4), [new SignalledStream(PublisherSsrc, 0x1111_0002)], [], "stream", "video", "test");
                var producer = _router.Publish(_publisherMedia, "video", track);
                KeyedTransportShortcut.Connect(_publisherMedia.Transport, _publisher.LocalEndPoint!.Serialize(), publisherKeys);
                for (var i = 0; i < n; i++)
                {
                    var subscriber = _router.Subscriber($"subscriber{i}", listener);
                    KeyedTransportShortcut.Connect(subscriber.Transport, Sinks[i].Address, new SrtpKeyPair(Sinks[i].Key, TestSrtpKeys.FromSeed(100 + i)));
                    subscriber.Consume(producer, new ConsumerParameters("0", 0x2222_0000u + (uint)i, 0x3333_0000u + (uint)i, 100, 101, new RtpHeaderExtensionIds(Mid: 1)));
                }
            }).Wait();
        }

        public MediaMetrics Metrics { get; }

        public List<SubscriberSink> Sinks { get; } = [];

        /// <summary>Packet <paramref name="number"/> of a VP8 stream (the first a keyframe, as consumers start on one), over UDP.</summary>
        public void Publish(int number)
        {
            var inFrame = number % PacketsPerFrame;
            var header = new RtpHeaderWriter(_packet, 96, (ushort)(1000 + number), (uint)(number / PacketsPerFrame * 3000), PublisherSsrc,
                marker: inFrame == PacketsPerFrame - 1);
            header.AddExtension(4, "1"u8);
            var at = header.Finish();
            at += Vp8Payload.Write(_packet.AsSpan(at), 1000, (ushort)(number / PacketsPerFrame), startOfFrame: inFrame == 0,
                keyframe: number == 0, fill: (byte)number);
            if (_toServer.Protect(_packet, at, out var length) != SrtpStatus.Ok) throw new InvalidOperationException("protect failed");
            _publisher.SendTo(_packet.AsSpan(0, length), _server);
        }

        /// <summary>Whether every sink has <paramref name="count"/> packets within a generous wait (false: something was lost).</summary>
        public async Task<bool> AllReceivedAsync(int count)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (Sinks.Any(sink => sink.Count < count))
            {
                if (DateTime.UtcNow > deadline) return false;
                await Task.Delay(5);
            }
            return true;
        }

        public async ValueTask DisposeAsync()
        {
            await _worker.InvokeAsync(() =>
            {
                _router.Dispose();
            });
            _worker.Dispose();
            foreach (var sink in Sinks) sink.Dispose();
            _publisher.Dispose();
            _toServer.Dispose();
            _dtls.Dispose();
        }
    }

    /// <summary>A subscriber's socket: a thread decrypts every RTP packet the server sends it and records its sequence number.</summary>
    private sealed class SubscriberSink : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        private readonly SrtpContext _fromServer;
        private readonly List<ushort> _sequences = [];
        private readonly Thread _thread;
        private int _undecryptable;

        public SubscriberSink(SrtpMasterKey key)
        {
            Key = key;
            _fromServer = new SrtpContext(key);
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Address = _socket.LocalEndPoint!.Serialize();
            _thread = new Thread(Read) { IsBackground = true, Name = "test-subscriber-sink" };
            _thread.Start();
        }

        public SrtpMasterKey Key { get; }

        public SocketAddress Address { get; }

        public int Count
        {
            get { lock (_sequences) return _sequences.Count; }
        }

        public List<ushort> Sequences
        {
            get { lock (_sequences) return [.. _sequences]; }
        }

        public int Undecryptable => Volatile.Read(ref _undecryptable);

        private void Read()
        {
            var buffer = new byte[2048];
            try
            {
                while (true)
                {
                    var length = _socket.Receive(buffer);
                    // The answer to the keying shortcut's ICE check and RTCP (sender reports) share the socket; only RTP
                    // carries the sequence numbers under test.
                    if (length < 2 || buffer[0] is < 128 or > 191 || buffer[1] is >= 192 and <= 223) continue;
                    if (_fromServer.Unprotect(buffer, length, out _) != SrtpStatus.Ok)
                    {
                        Interlocked.Increment(ref _undecryptable);
                        continue;
                    }
                    lock (_sequences) _sequences.Add(BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(2)));
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        }

        public void Dispose()
        {
            _socket.Dispose();
            _thread.Join(TimeSpan.FromSeconds(1));
            _fromServer.Dispose();
        }
    }
}
