using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Sfu.Client;
using Sfu.Client.Signaling;
using Sfu.Client.Transport;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Rebinding;

/// <summary>
/// A real route change rather than a relay's trick: the subscriber runs on a "phone" made of a network namespace
/// with two interfaces, and mid-call its route to the server moves from wifi to 4g, so the kernel gives its
/// packets a new source address. Skipped, with the reason, where the machine cannot create namespaces.
/// </summary>
[Category("Media")]
[NonParallelizable]
public sealed class NetworkNamespaceRouteChangeTests
{
    private const string SubscribeRebinds = "sfu_media_rebinds_total{direction=\"subscribe\",trigger=\"nominated\"}";
    private static readonly TimeSpan Wait = RebindingCall.Wait;

    private PhoneNetworks? _networks;

    [SetUp]
    public void CreateNetworks()
    {
        try
        {
            _networks = PhoneNetworks.Create();
        }
        catch (NetworkNamespaceUnavailableException e)
        {
            Assert.Ignore($"network namespaces unavailable here: {e.Message}");
        }
    }

    [TearDown]
    public void DeleteNetworks()
    {
        _networks?.Dispose();
        _networks = null;
    }

    [Test]
    public async Task SubscriberOnAPhone_RouteMovesFromWifiTo4g_ItsSourceAddressChanges_MediaAndSignalingRecover()
    {
        var networks = _networks!;
        var phone = networks.Phone;
        await using var server = await SfuTestServer.StartAsync(null,
            "urls=http://0.0.0.0:0", "Sfu:Media:BindAddress=0.0.0.0", $"Sfu:Media:AnnouncedAddress={networks.ServerAddress}");

        // The subscriber's sockets, TCP and UDP, are created inside the phone; everything else about it is ordinary.
        var signalingSockets = new ConcurrentQueue<Socket>();
        var serverFromPhone = new UriBuilder(server.WebSocketUri) { Host = networks.ServerAddress.ToString() }.Uri;
        await using var subscriberSignaling = await SignalingClient.ConnectAsync(serverFromPhone, () =>
        {
            var socket = phone.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
            signalingSockets.Enqueue(socket);
            return socket;
        });
        using var subscriber = new Subscriber(subscriberSignaling, new SubscriberOptions
        {
            Transport = new ClientTransportOptions
            {
                // Bound to no address in particular: each datagram leaves from the address of the phone's current route.
                LocalEndPoint = new IPEndPoint(IPAddress.Any, 0),
                ConsentInterval = TimeSpan.FromMilliseconds(200),
                CreateSocket = family => phone.Run(() => new Socket(family, SocketType.Dgram, ProtocolType.Udp)),
            },
        });
        var joined = await subscriberSignaling.JoinAsync("netns", "subscriber");

        // The publisher stays on the server's machine and reaches it over loopback.
        await using var publisherSignaling = await SignalingClient.ConnectAsync(server.WebSocketUri);
        await publisherSignaling.JoinAsync("netns", "publisher");
        using var publisher = new Publisher(new PublisherOptions { Audio = false });
        await publisher.PublishAsync(publisherSignaling, new IPEndPoint(IPAddress.Loopback, server.MediaPort));

        await subscriber.WaitForOffersAnsweredAsync(1, Wait);
        await subscriber.Transport.WaitConnectedAsync(Wait);
        await UntilAsync(() => VideoPackets(subscriber) > 30, "video reaches the phone over wifi");
        var firstSignalingAddress = ((IPEndPoint)signalingSockets.Single().LocalEndPoint!).Address;
        Assert.Multiple(() =>
        {
            Assert.That(subscriber.Transport.MappedEndPoint?.Address, Is.EqualTo(networks.WifiAddress), "the server sees the phone's checks from wifi");
            Assert.That(firstSignalingAddress, Is.EqualTo(networks.WifiAddress), "signaling runs over wifi");
        });

        networks.MoveToCellular();
        // What an app does on a connectivity change: the old connection's address is gone, so resume on a new one.
        var resumed = await subscriberSignaling.ResumeAsync();

        // Nothing tells the media transport: its next consent check simply leaves from the 4g address.
        await UntilAsync(() => Equals(subscriber.Transport.MappedEndPoint?.Address, networks.CellularAddress),
            "the server sees the phone's checks from 4g");
        await UntilMetricAsync(server, SubscribeRebinds, 1);
        var packetsAfterMove = VideoPackets(subscriber);
        await UntilAsync(() => VideoPackets(subscriber) > packetsAfterMove + 60, "video reaches the phone over 4g");

        // The subscriber was in the room before the publisher joined, so any peer-joined would be it coming back as new.
        var seenByPublisher = publisherSignaling.Events.Select(e => e.Name).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(resumed.GetProperty("peerId").GetString(), Is.EqualTo(joined.GetProperty("peerId").GetString()), "the same peer resumed");
            Assert.That(((IPEndPoint)signalingSockets.Last().LocalEndPoint!).Address, Is.EqualTo(networks.CellularAddress), "signaling resumed over 4g");
            Assert.That(signalingSockets, Has.Count.EqualTo(2), "one signaling connection per network");
            Assert.That(seenByPublisher, Has.No.Member("peer-left").And.No.Member("peer-joined"), "the publisher never saw the subscriber leave or come back as new");
        });
    }

    private static long VideoPackets(Subscriber subscriber)
    {
        var mid = subscriber.Offer?.Media.FirstOrDefault(m => m.Kind == "video" && !m.IsRejected)?.Mid;
        return mid is null ? 0 : subscriber.FindByMid(mid)?.Packets ?? 0;
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Wait) Assert.Fail($"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }

    private static async Task UntilMetricAsync(SfuTestServer server, string series, double atLeast)
    {
        var clock = Stopwatch.StartNew();
        MetricsSnapshot metrics;
        while ((metrics = await MetricsSnapshot.ScrapeAsync(server))[series] < atLeast)
        {
            if (clock.Elapsed > Wait) Assert.Fail($"{series} did not reach {atLeast}: {metrics}");
            await Task.Delay(20);
        }
    }
}
