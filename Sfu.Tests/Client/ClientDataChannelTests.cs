using System.Diagnostics;
using System.Net;
using Sfu.Client;
using Sfu.Client.DataChannels;
using Sfu.Client.Signaling;
using Sfu.Media.Sctp;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Client;

/// <summary>
/// Data tracks between two C# clients through the real server: each publishes a channel and receives the other's as a
/// server-opened channel whose protocol is the track id, and messages go both ways in order with none lost, also while
/// one client moves to a new address and port mid-transfer (a rebinding the server follows; no ICE restart).
/// </summary>
[NonParallelizable]
public sealed class ClientDataChannelTests : ServerTest
{
    private const int Messages = 10_000;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Test]
    public async Task TwoClients_PublishDataTracks_AndReceiveEachOthers_OrderedInOrderNoneLost_UnreliableDelivered()
    {
        await using var ada = await DataPeer.JoinAsync(Server, "data-room", "ada");
        await using var bob = await DataPeer.JoinAsync(Server, "data-room", "bob");
        var adaChat = await ada.Publisher.PublishDataAsync("chat-ada");
        var adaFast = await ada.Publisher.PublishDataAsync("fast-ada", ordered: false, maxRetransmits: 0);
        var bobChat = await bob.Publisher.PublishDataAsync("chat-bob");

        var published = await ada.Signaling.WaitForEventAsync("track-published", e => e.Message.GetProperty("track").GetProperty("label").GetString() == "chat-bob", timeout: Wait);
        await Until(() => bob.Opened("chat-ada") is not null && bob.Opened("fast-ada") is not null && ada.Opened("chat-bob") is not null);
        var atBob = bob.Opened("chat-ada")!;
        var atAda = ada.Opened("chat-bob")!;
        Assert.Multiple(() =>
        {
            Assert.That(atAda.TrackId, Is.EqualTo(published.Message.GetProperty("track").GetProperty("trackId").GetString()), "the channel's protocol is the track id");
            Assert.That(atBob.Ordered, Is.True);
            Assert.That(bob.Opened("fast-ada")!.Ordered, Is.False);
            Assert.That(bob.Opened("fast-ada")!.MaxRetransmits, Is.EqualTo(0));
        });

        for (var i = 0; i < 20; i++) Assert.That(adaFast.Send($"fast {i}"), Is.EqualTo(SctpSendStatus.Queued));
        await Task.WhenAll(SendAllAsync(adaChat, "ada"), SendAllAsync(bobChat, "bob"));
        await Until(() => bob.Received("chat-ada").Count == Messages && ada.Received("chat-bob").Count == Messages && bob.Received("fast-ada").Count > 0);

        Assert.Multiple(() =>
        {
            Assert.That(bob.Received("chat-ada"), Is.EqualTo(Expected("ada")), "ada → bob in order, none lost, none twice");
            Assert.That(ada.Received("chat-bob"), Is.EqualTo(Expected("bob")), "bob → ada in order, none lost, none twice");
            Assert.That(bob.Received("fast-ada"), Is.SubsetOf(Enumerable.Range(0, 20).Select(i => $"fast {i}")));
            Assert.That(ada.Received("fast-ada"), Is.Empty, "a peer does not receive its own track");
        });
    }

    [Test]
    public async Task OneClientMovesToANewAddressAndPort_MidTransfer_TenThousandMessagesEachWay_ArriveInOrder()
    {
        await using var ada = await DataPeer.JoinAsync(Server, "move-room", "ada");
        await using var bob = await DataPeer.JoinAsync(Server, "move-room", "bob");
        var adaChat = await ada.Publisher.PublishDataAsync("chat-ada");
        var bobChat = await bob.Publisher.PublishDataAsync("chat-bob");
        await Until(() => bob.Opened("chat-ada") is not null && ada.Opened("chat-bob") is not null);
        var offersBefore = bob.Subscriber.OffersAnswered;
        var iceBefore = (bob.Publisher.Transport.LocalIce, bob.Subscriber.Transport.LocalIce);

        // Each sender stops at the half until bob has moved, so the transfer surely spans the move in both directions.
        var moved = new TaskCompletionSource();
        var sending = Task.WhenAll(SendAllAsync(adaChat, "ada", moved.Task), SendAllAsync(bobChat, "bob", moved.Task));
        await Until(() => bob.Received("chat-ada").Count >= Messages / 4 && ada.Received("chat-bob").Count >= Messages / 4);
        var before = (bob.Publisher.Transport.LocalEndPoint, bob.Subscriber.Transport.LocalEndPoint);
        var newAddress = IPAddress.Parse("127.0.0.2");
        var publisherAfter = await bob.Publisher.Transport.RebindAsync(new IPEndPoint(newAddress, 0));
        var subscriberAfter = await bob.Subscriber.Transport.RebindAsync(new IPEndPoint(newAddress, 0));
        var receivedAtMove = (bob.Received("chat-ada").Count, ada.Received("chat-bob").Count);
        moved.SetResult();

        await sending;
        await Until(() => bob.Received("chat-ada").Count == Messages && ada.Received("chat-bob").Count == Messages);
        TestContext.Out.WriteLine($"moved after {receivedAtMove} of {Messages} each way");
        Assert.Multiple(() =>
        {
            Assert.That(publisherAfter.Address, Is.EqualTo(newAddress));
            Assert.That(subscriberAfter, Is.Not.EqualTo(before.Item2));
            Assert.That(bob.Publisher.Transport.MappedEndPoint, Is.EqualTo(publisherAfter), "the server verified the publisher's new address");
            Assert.That(bob.Subscriber.Transport.MappedEndPoint, Is.EqualTo(subscriberAfter), "and the subscriber's");
            Assert.That((bob.Publisher.Transport.LocalIce, bob.Subscriber.Transport.LocalIce), Is.EqualTo(iceBefore), "no ICE restart");
            Assert.That(bob.Subscriber.OffersAnswered, Is.EqualTo(offersBefore), "no renegotiation");
            Assert.That(bob.Received("chat-ada"), Is.EqualTo(Expected("ada")), "ada → bob in order, none lost, none twice");
            Assert.That(ada.Received("chat-bob"), Is.EqualTo(Expected("bob")), "bob → ada in order, none lost, none twice");
        });
    }

    private static IEnumerable<string> Expected(string from) => Enumerable.Range(0, Messages).Select(i => $"{from} {i}");

    private static async Task SendAllAsync(ClientDataChannel channel, string from, Task? atHalf = null)
    {
        for (var i = 0; i < Messages; i++)
        {
            if (i == Messages / 2 && atHalf is not null) await atHalf;
            await channel.SendAsync($"{from} {i}");
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

    /// <summary>One client: its signaling, a data-only publisher and a subscriber recording what its channels receive.</summary>
    private sealed class DataPeer : IAsyncDisposable
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<string, ClientDataChannel> _opened = [];
        private readonly Dictionary<string, List<string>> _received = [];

        private DataPeer(SignalingClient signaling)
        {
            Signaling = signaling;
            Subscriber = new Subscriber(signaling);
            Publisher = new Publisher(new PublisherOptions { Audio = false, Video = false, Data = true });
            Subscriber.Transport.DataChannels.ChannelOpened += channel =>
            {
                lock (_gate) _opened[channel.Label] = channel;
            };
            Subscriber.Transport.DataChannels.MessageReceived += (channel, message) =>
            {
                lock (_gate)
                {
                    if (!_received.TryGetValue(channel.Label, out var list)) _received[channel.Label] = list = [];
                    list.Add(message.Text);
                }
            };
        }

        public SignalingClient Signaling { get; }

        public Publisher Publisher { get; }

        public Subscriber Subscriber { get; }

        public static async Task<DataPeer> JoinAsync(SfuTestServer server, string room, string name)
        {
            var peer = new DataPeer(await SignalingClient.ConnectAsync(server.WebSocketUri));
            await peer.Signaling.JoinAsync(room, name);
            await peer.Publisher.PublishAsync(peer.Signaling);
            await peer.Publisher.Transport.WaitConnectedAsync(TimeSpan.FromSeconds(15));
            return peer;
        }

        public ClientDataChannel? Opened(string label)
        {
            lock (_gate) return _opened.GetValueOrDefault(label);
        }

        public List<string> Received(string label)
        {
            lock (_gate) return _received.TryGetValue(label, out var list) ? [.. list] : [];
        }

        public async ValueTask DisposeAsync()
        {
            Publisher.Dispose();
            Subscriber.Dispose();
            await Signaling.DisposeAsync();
        }
    }
}
