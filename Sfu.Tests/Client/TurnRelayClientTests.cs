using System.Diagnostics;
using System.Net;
using Sfu.Client;
using Sfu.Client.Signaling;
using Sfu.Client.Transport;
using Sfu.Client.Transport.Turn;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Client;

/// <summary>
/// The C# client relay-only through a real coturn: a publisher and a subscriber each allocate on it with the TURN REST
/// credentials of their join response, and media flows SFU ↔ coturn ↔ client, over UDP and over TCP to coturn. coturn
/// listens and relays on 127.0.0.3, which the SFU is told is a relay address, so its metrics can tell relayed paths.
/// </summary>
[NonParallelizable]
public sealed class TurnRelayClientTests
{
    private const string Secret = "turn-secret-for-the-client";
    private static readonly IPAddress CoturnAddress = IPAddress.Parse("127.0.0.3");
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [TestCase(TurnTransport.Udp)]
    [TestCase(TurnTransport.Tcp)]
    public async Task PublisherAndSubscriber_ThroughCoturnOnly_MediaArrives_AndTheServerSeesRelayAddresses(TurnTransport transport)
    {
        using var coturn = await CoturnServer.StartAsync(CoturnAddress, Secret);
        await using var server = await StartServerAsync(coturn);

        await using var subscriberSignaling = await JoinAsync(server, "turn-room", "sub");
        using var subscriber = new Subscriber(subscriberSignaling, new SubscriberOptions { Transport = RelayOnly(subscriberSignaling, transport) });
        await using var publisherSignaling = await JoinAsync(server, "turn-room", "pub");
        var messages = new List<string>();
        var opened = new TaskCompletionSource();
        subscriber.Transport.DataChannels.ChannelOpened += _ => opened.TrySetResult();
        subscriber.Transport.DataChannels.MessageReceived += (_, message) =>
        {
            lock (messages) messages.Add(message.Text);
        };
        using var publisher = new Publisher(new PublisherOptions { Audio = false, Data = true, Transport = RelayOnly(publisherSignaling, transport) });
        await publisher.PublishAsync(publisherSignaling);
        await WaitConnectedAsync(publisher.Transport, coturn);
        var chat = await publisher.PublishDataAsync("chat");
        await subscriber.WaitForOffersAnsweredAsync(1, Wait);
        await WaitConnectedAsync(subscriber.Transport, coturn);
        await opened.Task.WaitAsync(Wait);
        for (var i = 0; i < 500; i++) await chat.SendAsync($"m{i}");

        var videoMid = subscriber.Offer!.Media.Single(m => m.Kind == "video" && !m.IsRejected).Mid!;
        await Until(() => subscriber.FindByMid(videoMid) is { Packets: > 150 });
        await Until(() => { lock (messages) return messages.Count == 500; });
        var video = subscriber.FindByMid(videoMid)!;
        var metrics = await MetricsSnapshot.ScrapeAsync(server);
        TestContext.Out.WriteLine(video);
        Assert.Multiple(() =>
        {
            foreach (var client in new[] { publisher.Transport, subscriber.Transport })
            {
                var relay = client.Relay!;
                Assert.That(relay.Transport, Is.EqualTo(transport));
                Assert.That(relay.RelayedEndPoint!.Address, Is.EqualTo(CoturnAddress), "coturn relays from its relay-ip");
                Assert.That(client.MappedEndPoint, Is.EqualTo(relay.RelayedEndPoint), "the SFU saw the relayed address as the client's");
                Assert.That(relay.PeerFrames, Is.GreaterThan(0));
                Assert.That(relay.BadMessages, Is.Zero);
            }

            // The 500 data messages go out as one burst through the same relay socket as the video: on a loaded machine
            // coturn's socket overflowed once and dropped 6 video packets in one gap (CI, 2026-12-02). A burst's worth,
            // not a steady loss: the relaying itself is what is checked.
            Assert.That(video.Lost, Is.LessThanOrEqualTo(Math.Max(10, video.Packets / 50)), "at most a burst lost on loopback through coturn");
            Assert.That(messages, Is.EqualTo(Enumerable.Range(0, 500).Select(i => $"m{i}")), "the data track's messages, in order");
            Assert.That(video.Keyframes, Is.GreaterThanOrEqualTo(1));
            Assert.That(subscriber.Transport.SrtpFailures, Is.Zero);
            Assert.That(metrics["sfu_media_transports_by_protocol{protocol=\"relayed\"}"], Is.EqualTo(2), metrics.ToString());
            Assert.That(metrics["sfu_media_transports_by_protocol{protocol=\"udp\"}"], Is.Zero, "no direct path at all");
        });
    }

    [Test]
    public async Task RefreshingTheAllocationAndTheChannel_IsAnsweredByCoturn_AndMediaKeepsFlowing()
    {
        using var coturn = await CoturnServer.StartAsync(CoturnAddress, Secret);
        await using var server = await StartServerAsync(coturn);
        await using var subscriberSignaling = await JoinAsync(server, "refresh-room", "sub");
        using var subscriber = new Subscriber(subscriberSignaling);
        await using var publisherSignaling = await JoinAsync(server, "refresh-room", "pub");
        using var publisher = new Publisher(new PublisherOptions { Audio = false, Transport = RelayOnly(publisherSignaling, TurnTransport.Udp) });
        await publisher.PublishAsync(publisherSignaling);
        await WaitConnectedAsync(publisher.Transport, coturn);
        await subscriber.WaitForOffersAnsweredAsync(1, Wait);
        var videoMid = subscriber.Offer!.Media.Single(m => m.Kind == "video" && !m.IsRejected).Mid!;
        await Until(() => subscriber.FindByMid(videoMid) is { Packets: > 30 });

        var relay = publisher.Transport.Relay!;
        var lifetime = relay.LifetimeSeconds;
        relay.RefreshNow();
        await Until(() => relay.AllocationRefreshes == 1 && relay.ChannelBindings == 2);
        var atRefresh = subscriber.FindByMid(videoMid)!.Packets;
        await Until(() => subscriber.FindByMid(videoMid)!.Packets > atRefresh + 60);
        Assert.Multiple(() =>
        {
            Assert.That(lifetime, Is.GreaterThan(0u), "coturn granted a lifetime");
            Assert.That(relay.LifetimeSeconds, Is.GreaterThan(0u), "and renewed it");
            Assert.That(relay.State, Is.EqualTo(TurnRelayState.Ready));
            Assert.That(relay.BadMessages, Is.Zero);
        });
    }

    [Test]
    public async Task WithAFallback_ADirectPathThatAnswersNothing_MovesToTheRelay_AndOneThatAnswers_NeverDoes()
    {
        using var coturn = await CoturnServer.StartAsync(CoturnAddress, Secret);
        await using var server = await StartServerAsync(coturn);
        await using var signaling = await JoinAsync(server, "fallback-room", "blocked");
        await using var directSignaling = await JoinAsync(server, "fallback-room", "direct");
        // The way to the server's candidate is a socket that reads and answers nothing, as if UDP to it were dropped.
        using var blackHole = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var fallback = TimeSpan.FromSeconds(1);
        ClientTransportOptions WithFallback(SignalingClient s) => new() { Relay = RelayOnly(s, TurnTransport.Udp).Relay, RelayFallbackAfter = fallback };
        using var blocked = new Publisher(new PublisherOptions { Audio = false, Transport = WithFallback(signaling) });
        using var direct = new Publisher(new PublisherOptions { Audio = false, Transport = WithFallback(directSignaling) });

        await blocked.PublishAsync(signaling, sendTo: (IPEndPoint)blackHole.Client.LocalEndPoint!);
        await direct.PublishAsync(directSignaling);
        await WaitConnectedAsync(blocked.Transport, coturn);
        await direct.Transport.WaitConnectedAsync(Wait);
        await Until(() => blocked.Transport.RtpSent > 30 && direct.Transport.RtpSent > 30);

        Assert.Multiple(() =>
        {
            Assert.That(blocked.Transport.IsRelaying, Is.True);
            Assert.That(blocked.Transport.ChecksSent, Is.GreaterThan(5), "it tried the direct path first");
            Assert.That(blocked.Transport.MappedEndPoint, Is.EqualTo(blocked.Transport.Relay!.RelayedEndPoint), "then the SFU saw it through coturn");
            Assert.That(direct.Transport.IsRelaying, Is.False);
            Assert.That(direct.Transport.Relay!.State, Is.EqualTo(TurnRelayState.New), "no allocation when the direct path answers");
            Assert.That(direct.Transport.MappedEndPoint, Is.EqualTo(direct.Transport.LocalEndPoint));
        });
    }

    [Test]
    public async Task WrongCredentials_FailTheRelay_WithCoturnsAnswer()
    {
        using var coturn = await CoturnServer.StartAsync(CoturnAddress, Secret);
        await using var server = await StartServerAsync(coturn);
        await using var signaling = await JoinAsync(server, "bad-room", "pub");
        var options = TurnRelayOptions.FromIceServers(signaling.IceServers, TurnTransport.Udp)!;
        using var publisher = new Publisher(new PublisherOptions { Transport = new ClientTransportOptions { Relay = options with { Password = "not-the-password" } } });
        await publisher.PublishAsync(signaling);

        var failure = Assert.ThrowsAsync<InvalidOperationException>(() => publisher.Transport.Relay!.WaitReadyAsync(Wait));
        Assert.Multiple(() =>
        {
            Assert.That(failure!.Message, Does.Contain("Allocate refused: 401"));
            Assert.That(publisher.Transport.Relay!.State, Is.EqualTo(TurnRelayState.Failed));
            Assert.That(publisher.Transport.IsIceConnected, Is.False, "nothing reached the SFU directly");
        });
    }

    private static Task<SfuTestServer> StartServerAsync(CoturnServer coturn) => SfuTestServer.StartAsync(null,
        $"Sfu:Turn:Urls:0=turn:{coturn.Address}:{coturn.Port}", $"Sfu:Turn:Urls:1={coturn.TcpUrl}", $"Sfu:Turn:Secret={Secret}",
        $"Sfu:Media:RelayAddresses:0={coturn.Address}");

    private static async Task<SignalingClient> JoinAsync(SfuTestServer server, string room, string name)
    {
        var signaling = await SignalingClient.ConnectAsync(server.WebSocketUri);
        await signaling.JoinAsync(room, name);
        return signaling;
    }

    private static ClientTransportOptions RelayOnly(SignalingClient signaling, TurnTransport transport) => new()
    {
        Relay = TurnRelayOptions.FromIceServers(signaling.IceServers, transport) ?? throw new InvalidOperationException("no TURN server in the join response"),
    };

    private static async Task WaitConnectedAsync(ClientTransport transport, CoturnServer coturn)
    {
        try
        {
            await transport.Relay!.WaitReadyAsync(Wait);
            await transport.WaitConnectedAsync(Wait);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            Assert.Fail($"{e.Message}; relay {transport.Relay!.State} {transport.Relay.FailureReason}\n{coturn.Log()}");
        }
    }

    private static async Task Until(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Wait) Assert.Fail("condition not met in time");
            await Task.Delay(10);
        }
    }
}
