using Sfu.Tests.Infrastructure;
using Sfu.Tests.Media.Rebinding;

namespace Sfu.Tests.Media.Forwarding;

/// <summary>A publisher that leaves takes its tracks with it: subscribers are told, and renegotiated.</summary>
[Category("Media")]
[NonParallelizable]
public sealed class PublisherLeavesTests
{
    [Test]
    public async Task PublisherLeaves_SubscriberGetsTrackUnpublishedPeerLeftAndAnOfferWithoutTheTrack()
    {
        await using var server = await SfuTestServer.StartAsync();
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: false);
        var publisherId = call.PublisherSignaling.PeerId;

        await call.PublisherSignaling.LeaveAsync();
        var unpublished = await call.SubscriberSignaling.WaitForEventAsync("track-unpublished", timeout: RebindingCall.Wait);
        var left = await call.SubscriberSignaling.WaitForEventAsync("peer-left", timeout: RebindingCall.Wait);
        await call.Subscriber.WaitForOffersAnsweredAsync(2, RebindingCall.Wait);

        var offer = call.Subscriber.Offer!;
        Assert.Multiple(async () =>
        {
            Assert.That(unpublished.GetString("peerId"), Is.EqualTo(publisherId));
            Assert.That(unpublished.Seq, Is.LessThan(left.Seq), "tracks go before their peer");
            Assert.That(left.GetString("reason"), Is.EqualTo("leave"));
            Assert.That(offer.Media, Is.Not.Empty.And.All.Matches<Sfu.Media.Sdp.MediaDescription>(
                    m => m.Direction == Sfu.Media.Sdp.MediaDirection.Inactive && m.Ssrcs.Count == 0),
                "the m-lines stay (mids are stable) but carry nothing");
            Assert.That(offer.Bundle?.Mids, Is.EqualTo(new[] { offer.Media[0].Mid }), "the first line still tags the BUNDLE group");
            Assert.That(await call.MetricAsync("sfu_media_transports"), Is.EqualTo(1), "the publisher's transport is closed; the subscriber's remains");
        });
    }
}
