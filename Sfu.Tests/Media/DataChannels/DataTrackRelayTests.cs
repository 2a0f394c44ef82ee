using System.Text;
using System.Text.Json;
using Sfu.Media.DataChannels;
using Sfu.Media.Dtls;
using Sfu.Media.Sctp;
using Sfu.Media.Sdp;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.DataChannels;

/// <summary>
/// Data tracks through the real server with raw clients: a publisher's channels become data tracks, a subscriber gets
/// server-opened channels with the same parameters on its subscribe transport, and messages are relayed.
/// </summary>
public sealed class DataTrackRelayTests : ServerTest
{
    [Test]
    public async Task ChannelsOpenedByAPublisher_ReachASubscriber_OrderedInOrderAndUnorderedDelivered()
    {
        await using var relay = await ChatAndFastToOneSubscriberAsync();
        var (subscriberSocket, publisher, chat, fast, subscriber) = (relay.SubscriberSocket, relay.Publisher, relay.Chat, relay.Fast, relay.Subscriber);

        var tracks = new List<JsonElement>
        {
            (await subscriberSocket.NextEventAsync("track-published")).GetProperty("track"),
            (await subscriberSocket.NextEventAsync("track-published")).GetProperty("track"),
        };
        var chatTrack = tracks.Single(t => t.Str("label") == "chat");
        var fastTrack = tracks.Single(t => t.Str("label") == "fast");
        Assert.Multiple(() =>
        {
            Assert.That(chatTrack.Str("kind"), Is.EqualTo("data"));
            Assert.That(chatTrack.GetProperty("ordered").GetBoolean(), Is.True);
            Assert.That(chatTrack.TryGetProperty("mid", out var ___), Is.False);
            Assert.That(fastTrack.GetProperty("ordered").GetBoolean(), Is.False);
            Assert.That(fastTrack.GetProperty("maxRetransmits").GetInt32(), Is.EqualTo(0));
        });

        var opened = subscriber.Client.Opened.ToDictionary(c => c.Label);
        Assert.Multiple(() =>
        {
            Assert.That(opened["chat"].Parameters, Is.EqualTo(new DataChannelParameters("chat", chatTrack.Str("trackId"))), "the track id travels as the channel's protocol");
            Assert.That(opened["fast"].Parameters, Is.EqualTo(new DataChannelParameters("fast", fastTrack.Str("trackId"), Ordered: false, MaxRetransmits: 0)));
            Assert.That(opened["chat"].Stream % 2, Is.EqualTo(1), "the server, as DTLS server, opens odd streams");
        });

        const int count = 2000;
        var sent = 0;
        for (var i = 0; i < 20; i++) publisher.Channels.Send(fast, isString: true, Encoding.UTF8.GetBytes($"fast {i}"));
        while (Received(subscriber, "chat").Count < count)
        {
            // Sends as fast as the publisher's association takes them, pumping both clients meanwhile.
            while (sent < count && publisher.Channels.Send(chat, isString: true, Encoding.UTF8.GetBytes($"chat {sent}")) == SctpSendStatus.Queued) sent++;
            await publisher.Link.PumpOnceAsync();
            await subscriber.Link.PumpOnceAsync();
            Assert.That(subscriber.DtlsState, Is.EqualTo(DtlsState.Connected));
        }

        await subscriber.Link.PumpUntilAsync(() => Received(subscriber, "fast").Count > 0, "an unordered, unreliable message arrives");
        var metrics = await MetricsSnapshot.ScrapeAsync(Server);
        Assert.Multiple(() =>
        {
            Assert.That(Received(subscriber, "chat"), Is.EqualTo(Enumerable.Range(0, count).Select(i => $"chat {i}")), "in order, none lost, none twice");
            Assert.That(Received(subscriber, "fast"), Is.SubsetOf(Enumerable.Range(0, 20).Select(i => $"fast {i}")));
            Assert.That(metrics["sfu_media_datachannel_dropped_total{reason=\"reliable-refused\"}"], Is.EqualTo(0));
            Assert.That(metrics["sfu_media_datachannel_messages_total{direction=\"sent\"}"], Is.GreaterThanOrEqualTo(count + 2));
        });
    }

    [Test]
    public async Task ASubscriberThatReadsNothing_FillsItsByteBoundedQueue_ThenReliableMessagesAreRefusedAndUnreliableDropped_AndCounted()
    {
        await using var relay = await ChatAndFastToOneSubscriberAsync();
        var (publisher, chat, fast) = (relay.Publisher, relay.Chat, relay.Fast);

        // From now on the subscriber reads nothing, so acknowledges nothing: its queue on the server only grows.
        var payload = new byte[16 * 1024];
        for (var i = 0; i < 100; i++)
        {
            foreach (var channel in new[] { chat, fast })
            {
                while (publisher.Channels.Send(channel, isString: false, payload) != SctpSendStatus.Queued) await publisher.Link.PumpOnceAsync();
            }
            await publisher.Link.PumpOnceAsync();
        }
        await publisher.Link.PumpUntilAsync(() => publisher.Channels.Association.BufferedAmount == 0, "the server took every message from the publisher");

        var metrics = await MetricsSnapshot.ScrapeAsync(Server);
        var refused = metrics["sfu_media_datachannel_dropped_total{reason=\"reliable-refused\"}"];
        var dropped = metrics["sfu_media_datachannel_dropped_total{reason=\"unreliable-dropped\"}"];
        Assert.Multiple(() =>
        {
            // 3.2 MB sent into a 1 MiB queue: at least two thirds of the messages cannot have been queued.
            Assert.That(refused + dropped, Is.GreaterThanOrEqualTo(120), "messages past the byte bound are refused or dropped, each counted");
            Assert.That(refused, Is.GreaterThan(0), "reliable messages are refused, by that name");
            Assert.That(dropped, Is.GreaterThan(0), "unreliable messages are dropped, by that name");
        });
    }

    /// <summary>
    /// The set-up both tests share: a subscriber and a publisher join room "r"; the publisher opens "chat" (reliable,
    /// ordered) and "fast" (unordered, no retransmissions), and the subscriber, connected on its subscribe transport,
    /// has both server-opened channels. The track-published events are left unread for the test.
    /// </summary>
    private async Task<RelaySetup> ChatAndFastToOneSubscriberAsync()
    {
        var (subscriberSocket, _) = await Server.JoinAsync("r", "sub");
        var (publisherSocket, _) = await Server.JoinAsync("r", "pub");
        var publisher = await DataChannelTestPeer.PublishAsync(publisherSocket);
        var chat = publisher.Channels.Open(new DataChannelParameters("chat"))!;
        var fast = publisher.Channels.Open(new DataChannelParameters("fast", Ordered: false, MaxRetransmits: 0))!;
        await publisher.Link.PumpUntilAsync(() => chat.Acknowledged && fast.Acknowledged, "both OPENs are acknowledged");

        // One offer per change; the second (with both tracks) follows the answer to the first.
        var subscriber = await DataChannelTestPeer.ConnectAsync(await AnswerNextOfferAsync(subscriberSocket));
        await AnswerNextOfferAsync(subscriberSocket);
        await subscriber.Link.PumpUntilAsync(() => subscriber.Client.Opened.Count == 2, "the server opens both channels");
        return new RelaySetup(subscriberSocket, publisherSocket, publisher, chat, fast, subscriber);
    }

    private sealed record RelaySetup(TestClient SubscriberSocket, TestClient PublisherSocket, DataChannelTestPeer Publisher, DataChannel Chat, DataChannel Fast, DataChannelTestPeer Subscriber)
        : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Subscriber.Dispose();
            Publisher.Dispose();
            await PublisherSocket.DisposeAsync();
            await SubscriberSocket.DisposeAsync();
        }
    }

    private static List<string> Received(DataChannelTestPeer peer, string label) =>
        peer.Client.Received.TryGetValue(label, out var messages) ? messages : [];

    /// <summary>Answers the next subscribe offer as a browser would (active DTLS, its own ICE credentials); returns the offer.</summary>
    private static async Task<SessionDescription> AnswerNextOfferAsync(TestClient socket)
    {
        var message = await socket.NextEventAsync("subscribe-offer");
        var offer = SdpParser.Parse(message.Str("sdp"));
        var answer = SdpParser.Parse(message.Str("sdp"));
        answer.IceLite = false;
        foreach (var media in answer.Media)
        {
            media.Setup = DtlsSetup.Active;
            media.IceUfrag = "cli1";
            media.IcePwd = "clientpassword0123456789";
            media.Fingerprint = DataChannelTestPeer.Context.Certificate.Fingerprint;
            media.Candidates.Clear();
            media.EndOfCandidates = false;
            if (media.IsRtp) media.Direction = MediaDirection.RecvOnly;
        }
        var response = await socket.RequestAsync(new { type = "subscribe-answer", sdp = SdpWriter.Write(answer), version = message.GetProperty("version").GetInt64() });
        Assert.That(response.Ok(), Is.True, response.ToString());
        return offer;
    }
}
