using Sfu.Media.Sdp;

namespace Sfu.Tests.Media.Sdp;

public class SubscribeOfferBuilderTests
{
    private static readonly PublishAnswer Chrome = SdpTestData.Publish(SdpFixtures.ChromeSendOnly);
    private static readonly PublishAnswer Safari = SdpTestData.Publish(SdpFixtures.SafariSendOnly);
    private static readonly PublishAnswer Firefox = SdpTestData.Publish(SdpFixtures.FirefoxSendOnly);

    internal static SubscribedTrack Track(string id, PublishedTrack published, uint ssrc) =>
        new(id, published.Kind, published.Codec, ssrc, ssrc + 1, "sfu-" + id, "stream-" + id, "track-" + id);

    [Test]
    public void FirstOffer_IsSendOnlyBundledIceLiteActPass()
    {
        var offer = new SubscribeOfferBuilder().Build([Track("a", Chrome.Tracks[0], 1000), Track("v", Chrome.Tracks[1], 2000)], SdpTestData.Server);
        var sdp = SdpParser.Parse(offer.Sdp);

        Assert.That(sdp.IceLite, Is.True);
        Assert.That(sdp.Bundle!.Mids, Is.EqualTo(new[] { "0", "1" }));
        Assert.That(sdp.Media.Select(m => m.Kind), Is.EqualTo(new[] { "audio", "video" }));
        foreach (var media in sdp.Media)
        {
            Assert.That(media.Direction, Is.EqualTo(MediaDirection.SendOnly));
            Assert.That(media.Setup, Is.EqualTo(DtlsSetup.ActPass));
            Assert.That(media.Port, Is.EqualTo(50000));
            Assert.That(media.RtcpMux, Is.True);
            Assert.That(media.Candidates.Single().Address, Is.EqualTo("203.0.113.10"));
        }

        Assert.That(offer.Version, Is.EqualTo(1UL));
    }

    [Test]
    public void FirstOffer_CarriesPublisherCodecSsrcsAndMsid()
    {
        var offer = new SubscribeOfferBuilder().Build([Track("a", Chrome.Tracks[0], 1000), Track("v", Chrome.Tracks[1], 2000)], SdpTestData.Server);
        var sdp = SdpParser.Parse(offer.Sdp);
        var audio = sdp.Media[0];
        var video = sdp.Media[1];

        Assert.That(audio.Codecs.Single().RtpmapValue(), Is.EqualTo("111 opus/48000/2"));
        Assert.That(audio.Codecs.Single().Parameters["useinbandfec"], Is.EqualTo("1"));
        Assert.That(audio.HeaderExtensions.Select(e => (e.Id, e.Uri)), Is.EqualTo(new[]
        {
            (1, RtpExtensionUris.AudioLevel), (2, RtpExtensionUris.AbsSendTime), (3, RtpExtensionUris.TransportWideCc), (4, RtpExtensionUris.Mid),
        }));
        Assert.That(audio.Ssrcs.Single().Ssrc, Is.EqualTo(1000u));
        Assert.That(audio.SsrcGroups, Is.Empty);

        Assert.That(video.Formats, Is.EqualTo(new[] { "96", "97" }));
        Assert.That(video.FindCodec(97)!.AssociatedPayloadType, Is.EqualTo(96));
        Assert.That(video.FindCodec(96)!.Feedback, Does.Contain(RtcpFeedback.Pli).And.Contain(RtcpFeedback.Nack).And.Contain(RtcpFeedback.TransportCc));
        Assert.That(video.FindExtension(RtpExtensionUris.AudioLevel), Is.Null);
        Assert.That(video.SsrcGroups.Single().Semantics, Is.EqualTo("FID"));
        Assert.That(video.SsrcGroups.Single().Ssrcs, Is.EqualTo(new[] { 2000u, 2001u }));
        Assert.That(video.Msids.Single(), Is.EqualTo(new Msid("stream-v", "track-v")));
        Assert.That(video.FindSsrc(2001)!.Cname, Is.EqualTo("sfu-v"));
        Assert.That(offer.Assignments, Is.EqualTo(new[]
        {
            new SubscribeAssignment("0", "a", 111, null, 1000, null),
            new SubscribeAssignment("1", "v", 96, 97, 2000, 2001),
        }));
    }

    [Test]
    public void PayloadTypeClash_BetweenPublishers_IsRenumbered()
    {
        // Chrome's VP8 and Safari's H264 both want 96/97 (Safari: 98/99), Firefox's VP8 is 120/124 with other fmtp.
        var offer = new SubscribeOfferBuilder().Build(
            [Track("c", Chrome.Tracks[1], 10), Track("s", Safari.Tracks[1], 20), Track("f", Firefox.Tracks[1], 30)],
            SdpTestData.Server);
        var sdp = SdpParser.Parse(offer.Sdp);

        var all = sdp.Media.SelectMany(m => m.Codecs).Select(c => c.PayloadType).ToArray();
        Assert.That(all, Is.Unique);
        Assert.That(offer.Assignments[0].PayloadType, Is.EqualTo(96));
        Assert.That(offer.Assignments[1].PayloadType, Is.EqualTo(98), "Safari's own number is free and kept");
        Assert.That(offer.Assignments[2].PayloadType, Is.EqualTo(120));
        Assert.That(sdp.Media[1].FindCodec(98)!.Is("H264"), Is.True);
    }

    [Test]
    public void SameFormatFromTwoPublishers_SharesOnePayloadType()
    {
        var offer = new SubscribeOfferBuilder().Build([Track("x", Chrome.Tracks[1], 10), Track("y", Chrome.Tracks[1], 20)], SdpTestData.Server);

        Assert.That(offer.Assignments.Select(a => a.PayloadType), Is.EqualTo(new[] { 96, 96 }));
    }

    [Test]
    public void ClashWithTakenNumber_GetsTheNextFreeDynamicType()
    {
        var vp8 = Chrome.Tracks[1].Codec;
        var h264 = Safari.Tracks[1].Codec.WithPayloadTypes(96, 97);

        var offer = new SubscribeOfferBuilder().Build(
            [new SubscribedTrack("a", MediaKind.Video, vp8, 1, 2, "c", "s", "t"), new SubscribedTrack("b", MediaKind.Video, h264, 3, 4, "c", "s", "t2")],
            SdpTestData.Server);

        Assert.That(offer.Assignments[1].PayloadType, Is.EqualTo(98));
        Assert.That(offer.Assignments[1].RtxPayloadType, Is.EqualTo(99));
    }

    [Test]
    public void RemovedTrack_LeavesInactivePortZeroLineAndOtherMidsStay()
    {
        var builder = new SubscribeOfferBuilder();
        var first = builder.Build([Track("a", Chrome.Tracks[0], 1000), Track("v", Chrome.Tracks[1], 2000)], SdpTestData.Server);

        var second = builder.Build([Track("a", Chrome.Tracks[0], 1000)], SdpTestData.Server, first.State);
        var sdp = SdpParser.Parse(second.Sdp);

        Assert.That(sdp.Media, Has.Count.EqualTo(2), "m-lines are never removed");
        Assert.That(sdp.Media[1].Mid, Is.EqualTo("1"));
        Assert.That(sdp.Media[1].Port, Is.EqualTo(0));
        Assert.That(sdp.Media[1].Direction, Is.EqualTo(MediaDirection.Inactive));
        Assert.That(sdp.Media[1].Ssrcs, Is.Empty);
        Assert.That(sdp.Media[0].Mid, Is.EqualTo("0"));
        Assert.That(sdp.Bundle!.Mids, Is.EqualTo(new[] { "0" }));
        Assert.That(sdp.Origin.SessionId, Is.EqualTo(first.Offer.Origin.SessionId));
        Assert.That(second.Version, Is.EqualTo(first.Version + 1));
    }

    [Test]
    public void FirstLine_WhenItsTrackLeaves_StaysBundledAndInactive_SoTheBundleGroupNeverEmpties()
    {
        var builder = new SubscribeOfferBuilder();
        var v1 = builder.Build([Track("a", Chrome.Tracks[0], 1000), Track("v", Chrome.Tracks[1], 2000)], SdpTestData.Server);

        // Every track leaves (the last other peer left the room).
        var v2 = builder.Build([], SdpTestData.Server, v1.State);
        var sdp = SdpParser.Parse(v2.Sdp);

        Assert.That(sdp.Bundle!.Mids, Is.EqualTo(new[] { "0" }), "a browser with max-bundle refuses an offer without a BUNDLE group");
        Assert.That(sdp.Media[0].Port, Is.EqualTo(50000), "the bundle tag keeps its transport");
        Assert.That(sdp.Media[0].Direction, Is.EqualTo(MediaDirection.Inactive));
        Assert.That(sdp.Media[0].Ssrcs, Is.Empty);
        Assert.That(sdp.IceUfragFor(sdp.Media[0]), Is.Not.Null);
        Assert.That(sdp.Media[1].Port, Is.EqualTo(0), "other lines are rejected as usual");

        // A later publisher's tracks get lines of their own; the parked line is never recycled.
        var v3 = builder.Build([Track("a2", Chrome.Tracks[0], 3000), Track("v2", Chrome.Tracks[1], 4000)], SdpTestData.Server, v2.State);
        Assert.That(v3.Offer.Media.Select(m => (m.Mid, m.Port, m.Direction)), Is.EqualTo(new[]
        {
            ("0", 50000, MediaDirection.Inactive), ("3", 50000, MediaDirection.SendOnly), ("2", 50000, MediaDirection.SendOnly),
        }), "the video line closed an offer ago is recycled, the audio track gets a new line");
        Assert.That(v3.Offer.Bundle!.Mids, Is.EqualTo(new[] { "0", "3", "2" }));
    }

    [Test]
    public void ClosedLine_IsRecycledUnderANewMidOnlyAfterTheClosingOffer()
    {
        var builder = new SubscribeOfferBuilder();
        var v1 = builder.Build([Track("a", Chrome.Tracks[0], 20), Track("v1", Chrome.Tracks[1], 10)], SdpTestData.Server);

        // Same offer removes v1 and adds v2: the close is not negotiated yet, so v2 gets a new line.
        var v2 = builder.Build([Track("a", Chrome.Tracks[0], 20), Track("v2", Chrome.Tracks[1], 30)], SdpTestData.Server, v1.State);
        Assert.That(v2.Offer.Media.Select(m => (m.Mid, m.Port)), Is.EqualTo(new[] { ("0", 50000), ("1", 0), ("2", 50000) }));

        // Next offer: v2 leaves, v3 arrives; line 1 (closed one offer ago) is reused with a fresh mid.
        var v3 = builder.Build([Track("a", Chrome.Tracks[0], 20), Track("v3", Chrome.Tracks[1], 40)], SdpTestData.Server, v2.State);
        Assert.That(v3.Offer.Media.Select(m => (m.Mid, m.Port)), Is.EqualTo(new[] { ("0", 50000), ("3", 50000), ("2", 0) }));
        Assert.That(v3.Assignments.Single(a => a.TrackId == "v3").Mid, Is.EqualTo("3"));
        Assert.That(v3.Offer.Bundle!.Mids, Is.EqualTo(new[] { "0", "3" }));
    }

    [Test]
    public void ClosedLine_IsNotRecycledForAnotherKind()
    {
        var builder = new SubscribeOfferBuilder();
        var v1 = builder.Build([Track("a", Chrome.Tracks[0], 5), Track("v", Chrome.Tracks[1], 10)], SdpTestData.Server);
        var v2 = builder.Build([Track("a", Chrome.Tracks[0], 5)], SdpTestData.Server, v1.State);

        var v3 = builder.Build([Track("a", Chrome.Tracks[0], 5), Track("a2", Chrome.Tracks[0], 20)], SdpTestData.Server, v2.State);

        Assert.That(v3.Offer.Media.Select(m => (m.Kind, m.Port)), Is.EqualTo(new[] { ("audio", 50000), ("video", 0), ("audio", 50000) }));
    }

    [Test]
    public void PayloadTypes_StayStableAcrossVersions()
    {
        var builder = new SubscribeOfferBuilder();
        var v1 = builder.Build([Track("c", Chrome.Tracks[1], 10), Track("s", Safari.Tracks[1], 20)], SdpTestData.Server);
        var v2 = builder.Build([Track("s", Safari.Tracks[1], 20)], SdpTestData.Server, v1.State);

        var v3 = builder.Build([Track("s", Safari.Tracks[1], 20), Track("c2", Chrome.Tracks[1], 30)], SdpTestData.Server, v2.State);

        Assert.That(v3.Assignments.Single(a => a.TrackId == "s").PayloadType, Is.EqualTo(v1.Assignments.Single(a => a.TrackId == "s").PayloadType));
        Assert.That(v3.Assignments.Single(a => a.TrackId == "c2").PayloadType, Is.EqualTo(96));
    }

    [Test]
    public void Offer_RoundTripsThroughTheParser()
    {
        var offer = new SubscribeOfferBuilder().Build([Track("a", Chrome.Tracks[0], 1000), Track("v", Safari.Tracks[1], 2000)], SdpTestData.Server);

        var reparsed = SdpWriter.Write(SdpParser.Parse(offer.Sdp));

        Assert.That(reparsed, Is.EqualTo(offer.Sdp));
    }

    [Test]
    public void IceRestart_WritesTheNewCredentials()
    {
        var builder = new SubscribeOfferBuilder();
        var v1 = builder.Build([Track("a", Chrome.Tracks[0], 1000)], SdpTestData.Server);

        var v2 = builder.Build([Track("a", Chrome.Tracks[0], 1000)], SdpTestData.Server with { IceUfrag = "new1", IcePwd = "newpassword0123456789012" }, v1.State);

        Assert.That(v2.Offer.Media[0].IceUfrag, Is.EqualTo("new1"));
        Assert.That(v2.Offer.Media[0].Mid, Is.EqualTo("0"));
    }
}
