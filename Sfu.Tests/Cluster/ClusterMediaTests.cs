using Sfu.Client;
using Sfu.Client.Signaling;

namespace Sfu.Tests.Cluster;

/// <summary>
/// Media between two C# clients (ICE, DTLS, SRTP for real) whose signaling entered the cluster at different nodes:
/// both sessions live on the room's node, so both transports are on its media port.
/// </summary>
[NonParallelizable]
public sealed class ClusterMediaTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Test]
    public async Task PublisherAtOneNode_SubscriberAtAnother_MediaFlowsThroughTheRoomsNode()
    {
        await using var cluster = await ClusterTestNodes.StartAsync(2);
        await using var subscriberSignaling = await SignalingClient.ConnectAsync(cluster[1].WebSocketUri);
        using var subscriber = new Subscriber(subscriberSignaling);
        await subscriberSignaling.JoinAsync("media", "sub");
        await using var publisherSignaling = await SignalingClient.ConnectAsync(cluster[0].WebSocketUri);
        await publisherSignaling.JoinAsync("media", "pub");
        using var publisher = new Publisher(new PublisherOptions { Audio = false });
        await publisher.PublishAsync(publisherSignaling);

        await subscriber.WaitForOffersAnsweredAsync(1, Wait);
        await subscriber.Transport.WaitConnectedAsync(Wait);
        var deadline = DateTime.UtcNow + Wait;
        while (subscriber.Streams.FirstOrDefault(s => !s.IsRtx) is not { Packets: > 150 } && DateTime.UtcNow < deadline) await Task.Delay(50);

        var video = subscriber.Streams.FirstOrDefault(s => !s.IsRtx);
        TestContext.Out.WriteLine(video);
        Assert.Multiple(() =>
        {
            Assert.That(cluster.Owner("media"), Is.EqualTo(0), "the room lives on node-a; the subscriber entered at node-b");
            Assert.That(video?.Packets, Is.GreaterThan(150), "video keeps arriving");
            Assert.That(video?.Keyframes, Is.GreaterThanOrEqualTo(1));
            Assert.That(subscriber.Transport.SrtpFailures, Is.Zero);
            Assert.That(subscriber.Transport.RemoteEndPoint?.Port, Is.EqualTo(cluster[0].MediaPort), "the subscriber's ICE candidate is the room node's media port");
        });
    }
}
