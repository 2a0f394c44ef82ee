using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Sfu.Client;
using Sfu.Client.Signaling;
using Sfu.Client.Transport;
using Sfu.Media.Sdp;
using Sfu.Media.Stun;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Rebinding;

/// <summary>
/// A publisher and a subscriber (Sfu.Client) through the real server, the subscriber optionally behind a
/// <see cref="UdpRelay"/>, with what the rebinding tests need: the video stream the subscriber receives, the
/// server's metrics, and ICE checks crafted from other sockets ("another network of the same phone").
/// </summary>
internal sealed class RebindingCall : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private RebindingCall(SfuTestServer server, SignalingClient publisherSignaling, SignalingClient subscriberSignaling,
        Publisher publisher, Subscriber subscriber, UdpRelay? relay)
    {
        Server = server;
        PublisherSignaling = publisherSignaling;
        SubscriberSignaling = subscriberSignaling;
        Publisher = publisher;
        Subscriber = subscriber;
        Relay = relay;
    }

    public SfuTestServer Server { get; }
    public SignalingClient PublisherSignaling { get; }
    public SignalingClient SubscriberSignaling { get; }
    public Publisher Publisher { get; }
    public Subscriber Subscriber { get; }
    public UdpRelay? Relay { get; }
    public IPEndPoint ServerMedia => new(IPAddress.Loopback, Server.MediaPort);

    /// <summary>Packets of the forwarded video stream the subscriber has received so far.</summary>
    public long VideoPackets => VideoStream()?.Packets ?? 0;

    /// <param name="clock">The server's manual clock, if any: moved along with real time until video flows, since
    /// keyframe requests are throttled on it.</param>
    /// <param name="relayCreated">Called with the relay before any media flows through it, to watch from the first packet.</param>
    public static async Task<RebindingCall> StartAsync(SfuTestServer server, bool subscriberBehindRelay, ManualClock? clock = null, Action<UdpRelay>? relayCreated = null)
    {
        var relay = subscriberBehindRelay ? new UdpRelay(new IPEndPoint(IPAddress.Loopback, server.MediaPort)) : null;
        if (relay is not null) relayCreated?.Invoke(relay);
        var subscriberSignaling = await SignalingClient.ConnectAsync(server.WebSocketUri);
        var subscriber = new Subscriber(subscriberSignaling, new SubscriberOptions
        {
            SendTo = relay?.ListenEndPoint,
            Transport = new ClientTransportOptions { ConsentInterval = TimeSpan.FromMilliseconds(200) },
        });
        await subscriberSignaling.JoinAsync("rebinding", "subscriber");
        var publisherSignaling = await SignalingClient.ConnectAsync(server.WebSocketUri);
        await publisherSignaling.JoinAsync("rebinding", "publisher");
        var publisher = new Publisher(new PublisherOptions { Audio = false });
        await publisher.PublishAsync(publisherSignaling);
        await subscriber.WaitForOffersAnsweredAsync(1, Wait);
        await subscriber.Transport.WaitConnectedAsync(Wait);
        var call = new RebindingCall(server, publisherSignaling, subscriberSignaling, publisher, subscriber, relay);
        await call.UntilAsync(() =>
        {
            clock?.Advance(TimeSpan.FromMilliseconds(10));
            return call.VideoPackets > 30;
        }, "video reaches the subscriber");
        return call;
    }

    /// <summary>A Binding request for the subscribe transport, signed with its credentials, as from another socket.</summary>
    public byte[] SubscribeCheck(bool useCandidate)
    {
        var offer = Subscriber.Offer!;
        var media = offer.Media.First(m => !m.IsRejected);
        var buffer = new byte[IceStunMessages.MaxMessageLength];
        Span<byte> transaction = stackalloc byte[12];
        StunMessageWriter.NewTransactionId(transaction);
        var username = Encoding.ASCII.GetBytes($"{offer.IceUfragFor(media)}:elsewhere");
        var length = IceStunMessages.WriteBindingRequest(buffer, transaction, username, 2_000_000_000, 7, useCandidate,
            Encoding.ASCII.GetBytes(offer.IcePwdFor(media)!));
        return buffer[..length];
    }

    public Task<double> MetricAsync(string series) => MetricsSnapshot.ScrapeAsync(Server).ContinueWith(t => t.Result[series]);

    public async Task UntilMetricAsync(string series, double atLeast)
    {
        var clock = Stopwatch.StartNew();
        while (await MetricAsync(series) < atLeast)
        {
            if (clock.Elapsed > Wait) Assert.Fail($"{series} did not reach {atLeast}");
            await Task.Delay(20);
        }
    }

    public async Task UntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Wait) Assert.Fail($"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>A UDP socket on loopback that counts the RTP/RTCP-range datagrams it receives (SRTP it cannot read).</summary>
    public sealed class SecondPath : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        private readonly Task _loop;
        private long _media;
        private long _stunResponses;

        public SecondPath()
        {
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _loop = Task.Run(ReceiveAsync);
        }

        public long MediaReceived => Interlocked.Read(ref _media);
        public long StunResponses => Interlocked.Read(ref _stunResponses);

        public void Send(byte[] datagram, IPEndPoint to) => _socket.SendTo(datagram, to);

        private async Task ReceiveAsync()
        {
            var buffer = new byte[2048];
            try
            {
                while (true)
                {
                    var length = await _socket.ReceiveAsync(buffer);
                    if (length > 0 && buffer[0] is >= 128 and <= 191) Interlocked.Increment(ref _media);
                    else if (length > 0 && buffer[0] <= 3) Interlocked.Increment(ref _stunResponses);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        }

        public void Dispose()
        {
            _socket.Dispose();
            _loop.Wait(TimeSpan.FromSeconds(1));
        }
    }

    private ReceivedStreamStats? VideoStream()
    {
        var mid = Subscriber.Offer?.Media.FirstOrDefault(m => m.Kind == "video" && !m.IsRejected)?.Mid;
        return mid is null ? null : Subscriber.FindByMid(mid);
    }

    public async ValueTask DisposeAsync()
    {
        Publisher.Dispose();
        Subscriber.Dispose();
        await PublisherSignaling.DisposeAsync();
        await SubscriberSignaling.DisposeAsync();
        if (Relay is not null) await Relay.DisposeAsync();
    }
}
