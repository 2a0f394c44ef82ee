using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Sfu.Client;
using Sfu.Client.Signaling;
using Sfu.Client.Transport;
using Sfu.Media.Routing;
using Sfu.Media.Worker;
using Sfu.Signaling.MediaSessions;
using Sfu.Signaling.Rooms;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Pipes;

/// <summary>
/// One room spread over two media workers of a real server, with real C# clients (ICE, DTLS, SRTP): with
/// SpreadRoomAboveImbalance at 0 every new subscriber goes to the less-loaded worker, so the publisher's tracks reach
/// one subscriber on the room's home worker directly and another on the second worker through an in-process pipe.
/// Each subscriber listens before it joins: with tracks already published, its subscribe-offer follows the join at once.
/// </summary>
[NonParallelizable]
public sealed class RoomAcrossWorkersTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private SfuTestServer _server = null!;

    [SetUp]
    public async Task StartServerWithTwoWorkers() =>
        _server = await SfuTestServer.StartAsync(null, "Sfu:Media:Workers=2", "Sfu:Media:SpreadRoomAboveImbalance=0");

    [TearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    private IReadOnlyList<MediaWorker> Workers => _server.Services.GetRequiredService<MediaService>().Workers.All;

    [Test]
    public async Task VideoPublishedOnOneWorker_ReachesASubscriberOnEachWorker_AndKeyframeRequestsCrossBack()
    {
        await using var remoteSignaling = await SignalingClient.ConnectAsync(_server.WebSocketUri);
        using var remote = new Subscriber(remoteSignaling);
        await remoteSignaling.JoinAsync("spread", "remote");
        await using var publisherSignaling = await JoinAsync("spread", "pub");
        using var publisher = new Publisher(new PublisherOptions { Audio = true });
        await publisher.PublishAsync(publisherSignaling);
        await remote.WaitForOffersAnsweredAsync(1, Wait);
        await using var localSignaling = await SignalingClient.ConnectAsync(_server.WebSocketUri);
        using var local = new Subscriber(localSignaling);
        await localSignaling.JoinAsync("spread", "local");
        await local.WaitForOffersAnsweredAsync(1, Wait);

        await UntilAsync(() => Video(remote) is { Packets: > 150, Keyframes: > 0 } && Video(local) is { Packets: > 150, Keyframes: > 0 });
        var names = new Dictionary<string, string> { [remoteSignaling.PeerId!] = "remote", [localSignaling.PeerId!] = "local" };
        var routers = await RoomMedia("spread").InspectAllAsync(r => (r.Worker.Index, Subscribers: names.Where(p => r.FindSubscriber(p.Key) is not null).Select(p => p.Value).ToList()));
        TestContext.Out.WriteLine($"remote {Video(remote)}; local {Video(local)}");
        Assert.Multiple(() =>
        {
            Assert.That(routers, Is.EqualTo(new[] { (0, new List<string> { "local" }), (1, new List<string> { "remote" }) }).AsCollection,
                "home router on worker 0 with the publisher and one subscriber, a mirror router on worker 1 with the other");
            Assert.That(remote.Transport.RemoteEndPoint?.Port, Is.EqualTo(Workers[1].Port), "the remote subscriber's candidate is worker 1's port");
            Assert.That(local.Transport.RemoteEndPoint?.Port, Is.EqualTo(Workers[0].Port));
            Assert.That(remote.Streams.Count(s => !s.IsRtx), Is.EqualTo(2), "audio and video both cross the pipe");
            Assert.That(remote.Transport.SrtpFailures + local.Transport.SrtpFailures, Is.Zero);
        });

        // A keyframe request from the subscriber on worker 1 reaches the publisher through worker 0. Wait out the
        // home producer's throttle (1 s) so the request cannot be absorbed by one made just before.
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        var plis = publisher.PlisReceived;
        var keyframes = Video(remote)!.Keyframes;
        Assert.That(remote.RequestKeyframe(Video(remote)!.Ssrc), Is.True);
        await UntilAsync(() => publisher.PlisReceived > plis && Video(remote)!.Keyframes > keyframes);
    }

    [Test]
    public async Task DataTracks_CrossWorkers_InOrder_NoneLost()
    {
        await using var ada = await DataPeerAsync("data-spread", "ada");
        await using var bob = await DataPeerAsync("data-spread", "bob");
        var adaChannel = await ada.Publisher.PublishDataAsync("chat-ada");
        await UntilAsync(() => bob.Opened("chat-ada"));

        for (var i = 0; i < 2000; i++) await adaChannel.SendAsync($"m {i}");
        await UntilAsync(() => bob.Received.Count == 2000);

        var subscriberWorker = await RoomMedia("data-spread").InspectAllAsync(r => r.FindSubscriber(bob.Signaling.PeerId!) is not null ? r.Worker.Index : -1);
        Assert.Multiple(() =>
        {
            Assert.That(subscriberWorker, Does.Contain(1), "bob's subscribe transport is on the second worker, ada's channel on the first");
            Assert.That(bob.Received, Is.EqualTo(Enumerable.Range(0, 2000).Select(i => $"m {i}")));
        });
    }

    [Test]
    public async Task ThePublisherLeaving_ClosesItsMirrors_OnTheOtherWorker()
    {
        await using var remoteSignaling = await SignalingClient.ConnectAsync(_server.WebSocketUri);
        using var remote = new Subscriber(remoteSignaling);
        await remoteSignaling.JoinAsync("leave-spread", "remote");
        var publisherSignaling = await JoinAsync("leave-spread", "pub");
        using var publisher = new Publisher(new PublisherOptions { Audio = false });
        await publisher.PublishAsync(publisherSignaling);
        await UntilAsync(() => Video(remote) is { Packets: > 30 });
        var trackId = (await RoomMedia("leave-spread").InspectAsync(r => r.FindPublisher(publisherSignaling.PeerId!)!.Producers.Single().Id));
        Assert.That(await RoomMedia("leave-spread").InspectAllAsync(r => r.Find(trackId) is not null), Is.EqualTo(new[] { true, true }));

        await publisherSignaling.LeaveAsync();
        await UntilAsync(async () => (await RoomMedia("leave-spread").InspectAllAsync(r => r.Find(trackId) is null)).All(gone => gone));
    }

    [Test]
    public async Task TheLastSubscriberOnTheSecondWorkerLeaving_ClosesTheMirrorRouter_AndTheNextOneOpensANewOne()
    {
        var remoteSignaling = await SignalingClient.ConnectAsync(_server.WebSocketUri);
        using var remote = new Subscriber(remoteSignaling);
        await remoteSignaling.JoinAsync("empty-spread", "remote");
        await using var publisherSignaling = await JoinAsync("empty-spread", "pub");
        using var publisher = new Publisher(new PublisherOptions { Audio = false });
        await publisher.PublishAsync(publisherSignaling);
        await UntilAsync(() => Video(remote) is { Packets: > 30 });
        Assert.That(await RoomMedia("empty-spread").InspectAllAsync(r => r.Worker.Index), Is.EqualTo(new[] { 0, 1 }));

        await remoteSignaling.LeaveAsync();
        await UntilAsync(async () => (await RoomMedia("empty-spread").InspectAllAsync(r => r.Worker.Index)).SequenceEqual([0]));

        await using var nextSignaling = await SignalingClient.ConnectAsync(_server.WebSocketUri);
        using var next = new Subscriber(nextSignaling);
        await nextSignaling.JoinAsync("empty-spread", "next");
        await UntilAsync(() => Video(next) is { Packets: > 30, Keyframes: > 0 });
        Assert.That(next.Transport.RemoteEndPoint?.Port, Is.EqualTo(Workers[1].Port), "a new mirror on the second worker");
        await remoteSignaling.DisposeAsync();
    }

    [Test]
    public async Task ASubscriberOverIceTcp_ReachesTheSecondWorkersTcpPort_AndReceivesVideo()
    {
        await using var remoteSignaling = await SignalingClient.ConnectAsync(_server.WebSocketUri);
        using var remote = new Subscriber(remoteSignaling, new SubscriberOptions { Transport = new ClientTransportOptions { IceTcp = true } });
        await remoteSignaling.JoinAsync("tcp-spread", "remote");
        await using var publisherSignaling = await JoinAsync("tcp-spread", "pub");
        using var publisher = new Publisher(new PublisherOptions { Audio = false });
        await publisher.PublishAsync(publisherSignaling);

        await UntilAsync(() => Video(remote) is { Packets: > 60, Keyframes: > 0 });
        var metrics = await MetricsSnapshot.ScrapeAsync(_server);
        Assert.Multiple(() =>
        {
            Assert.That(remote.Transport.RemoteEndPoint?.Port, Is.EqualTo(Workers[1].TcpPort), "worker 1's ICE-TCP listener");
            Assert.That(metrics["sfu_media_transports_by_protocol{protocol=\"tcp\"}"], Is.EqualTo(1), "the subscriber's path is TCP (the publisher's UDP)");
        });
    }

    [Test]
    public async Task ASubscriberOnTheSecondWorker_MovesToANewAddress_AndItsMediaFollows()
    {
        await using var remoteSignaling = await SignalingClient.ConnectAsync(_server.WebSocketUri);
        using var remote = new Subscriber(remoteSignaling);
        await remoteSignaling.JoinAsync("move-spread", "remote");
        await using var publisherSignaling = await JoinAsync("move-spread", "pub");
        using var publisher = new Publisher(new PublisherOptions { Audio = false });
        await publisher.PublishAsync(publisherSignaling);
        await UntilAsync(() => Video(remote) is { Packets: > 60 });

        var before = remote.Transport.LocalEndPoint;
        var moved = await remote.Transport.RebindAsync();
        var packets = Video(remote)!.Packets;
        await UntilAsync(() => Video(remote)!.Packets > packets + 100);
        Assert.Multiple(() =>
        {
            Assert.That(moved, Is.Not.EqualTo(before));
            Assert.That(remote.Transport.RemoteEndPoint?.Port, Is.EqualTo(Workers[1].Port));
        });
    }

    // Video is the stream with the most bytes by far (the publisher's audio is a few kbit/s).
    private static ReceivedStreamStats? Video(Subscriber subscriber) => subscriber.Streams.Where(s => !s.IsRtx).MaxBy(s => s.Bytes);

    private RoomMedia RoomMedia(string room) => _server.Services.GetRequiredService<RoomRegistry>().Find(room)!.Media!;

    private async Task<SignalingClient> JoinAsync(string room, string name)
    {
        var signaling = await SignalingClient.ConnectAsync(_server.WebSocketUri);
        await signaling.JoinAsync(room, name);
        return signaling;
    }

    private async Task<DataPeer> DataPeerAsync(string room, string name)
    {
        var peer = new DataPeer(await SignalingClient.ConnectAsync(_server.WebSocketUri));
        await peer.Signaling.JoinAsync(room, name);
        await peer.Publisher.PublishAsync(peer.Signaling);
        return peer;
    }

    private static Task UntilAsync(Func<bool> condition) => UntilAsync(() => Task.FromResult(condition()));

    private static async Task UntilAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > Wait) Assert.Fail("condition not met in time");
            await Task.Delay(20);
        }
    }

    /// <summary>A client that publishes data channels and records the text messages of those it receives.</summary>
    private sealed class DataPeer : IAsyncDisposable
    {
        private readonly Lock _gate = new();
        private readonly List<string> _received = [];
        private readonly HashSet<string> _opened = [];

        public DataPeer(SignalingClient signaling)
        {
            Signaling = signaling;
            Subscriber = new Subscriber(signaling);
            Publisher = new Publisher(new PublisherOptions { Audio = false, Video = false, Data = true });
            Subscriber.Transport.DataChannels.ChannelOpened += channel =>
            {
                lock (_gate) _opened.Add(channel.Label);
            };
            Subscriber.Transport.DataChannels.MessageReceived += (_, message) =>
            {
                lock (_gate) _received.Add(message.Text);
            };
        }

        public SignalingClient Signaling { get; }

        public Publisher Publisher { get; }

        public Subscriber Subscriber { get; }

        public List<string> Received
        {
            get
            {
                lock (_gate) return [.. _received];
            }
        }

        public bool Opened(string label)
        {
            lock (_gate) return _opened.Contains(label);
        }

        public async ValueTask DisposeAsync()
        {
            Publisher.Dispose();
            Subscriber.Dispose();
            await Signaling.DisposeAsync();
        }
    }
}
