using Sfu.Client;
using Sfu.Client.Signaling;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Client;

/// <summary>
/// What a subscriber says when its offers do not get answered, against the real server: whether any offer came at all,
/// and why an answer failed, instead of a bare "0 of 1 answered" (what the media load tool once reported, with no clue).
/// </summary>
[NonParallelizable]
public sealed class SubscriberNegotiationTests : ServerTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Test]
    public async Task InARoomWithNothingPublished_TheWaitSaysNoOfferArrived()
    {
        await using var signaling = await SignalingClient.ConnectAsync(Server.WebSocketUri);
        using var subscriber = new Subscriber(signaling);
        var joined = await signaling.JoinAsync("nothing-published", "sub");

        // Nothing is published, so no offer will ever come: any wait ends the same way, a short one does.
        var timeout = Assert.ThrowsAsync<TimeoutException>(() => subscriber.WaitForOffersAnsweredAsync(1, TimeSpan.FromMilliseconds(300)));
        Assert.Multiple(() =>
        {
            Assert.That(joined.GetProperty("room").GetProperty("peers").GetArrayLength(), Is.Zero);
            Assert.That(timeout!.Message, Does.Contain("0 of 1 subscribe offers answered").And.Contain("no subscribe-offer arrived").And.Contain("errors: none"));
            Assert.That(subscriber.OffersReceived, Is.Zero);
        });
    }

    [Test]
    public async Task AnAnswerOnALostSocket_IsRecordedAsAnError_AndTheWaitSaysSo()
    {
        await using var publisherSignaling = await SignalingClient.ConnectAsync(Server.WebSocketUri);
        await publisherSignaling.JoinAsync("lost-answer", "pub");
        using var publisher = new Publisher();
        await publisher.PublishAsync(publisherSignaling);

        // The offer is taken from the event log, with no subscriber listening yet; then the socket goes before the answer.
        await using var signaling = await SignalingClient.ConnectAsync(Server.WebSocketUri);
        await signaling.JoinAsync("lost-answer", "sub");
        var offer = await signaling.WaitForEventAsync("subscribe-offer", timeout: Wait);
        signaling.Abort();
        using var subscriber = new Subscriber(signaling);

        await subscriber.AnswerAsync(offer);
        var timeout = Assert.ThrowsAsync<TimeoutException>(() => subscriber.WaitForOffersAnsweredAsync(1, TimeSpan.FromMilliseconds(300)));
        Assert.Multiple(() =>
        {
            // The subscriber may also get the offer from the event dispatch, if that ran after it began to listen: 1 or 2.
            Assert.That(subscriber.OffersReceived, Is.InRange(1, 2));
            Assert.That(subscriber.OffersAnswered, Is.Zero);
            Assert.That(subscriber.NegotiationErrors, Has.Count.EqualTo(subscriber.OffersReceived), "each failed send, recorded rather than thrown into nobody's hands");
            Assert.That(timeout!.Message, Does.Contain($"({subscriber.OffersReceived} arrived)").And.Contain(subscriber.NegotiationErrors[0]));
        });
    }
}
