using Sfu.Media.Dtls;
using Sfu.Media.Sdp;

namespace Sfu.Tests.Media.Sdp;

public class DataChannelSdpTests
{
    private static readonly PublishAnswer Chrome = SdpTestData.Publish(SdpFixtures.ChromeSendOnly);

    private static MediaDescription DataSection(SessionDescription sdp) => sdp.Media.Single(m => m.Kind == "application");

    private static string? Attribute(MediaDescription media, string name) => media.OtherAttributes.SingleOrDefault(a => a.Name == name)?.Value;

    [Test]
    public void PublishAnswer_AcceptsChromiumsDataChannelSection_OnTheBundledTransport()
    {
        // chrome-recvonly.sdp is Chromium's own offer after createDataChannel (see Fixtures/README.md).
        var answer = SdpParser.Parse(SdpTestData.Publish(SdpFixtures.ChromeRecvOnly).Sdp);
        var data = DataSection(answer);

        Assert.Multiple(() =>
        {
            Assert.That(data.Proto, Is.EqualTo("UDP/DTLS/SCTP"));
            Assert.That(data.Formats, Is.EqualTo(new[] { "webrtc-datachannel" }));
            Assert.That(data.Mid, Is.EqualTo("2"));
            Assert.That(data.Port, Is.EqualTo(50000));
            Assert.That(data.Connection, Is.EqualTo("IN IP4 203.0.113.10"));
            Assert.That(data.Setup, Is.EqualTo(DtlsSetup.Passive));
            Assert.That(data.IceUfrag, Is.EqualTo("srvU1234"));
            Assert.That(data.Fingerprint, Is.EqualTo(SdpTestData.Server.Fingerprint));
            Assert.That(data.Candidates.Single().Port, Is.EqualTo(50000));
            Assert.That(data.Direction, Is.Null, "a data section has no direction");
            Assert.That(data.RtcpMux, Is.False);
            Assert.That(Attribute(data, "sctp-port"), Is.EqualTo("5000"));
            Assert.That(Attribute(data, "max-message-size"), Is.EqualTo("262144"));
        });
    }

    [TestCase("1073741824", 262144)]
    [TestCase("0", 262144)]
    [TestCase("16384", 16384)]
    [TestCase(null, 65536)]
    public void PublishAnswer_NegotiatesTheSmallerMessageLimit(string? offered, int expected)
    {
        var offer = SdpFixtures.Parse(SdpFixtures.ChromeRecvOnly);
        var data = DataSection(offer);
        data.OtherAttributes.RemoveAll(a => a.Name == "max-message-size");
        if (offered is not null) data.OtherAttributes.Add(new SdpAttribute("max-message-size", offered));

        var result = new PublishAnswerBuilder().Build(offer, SdpTestData.Server);

        Assert.That(result.DataChannels, Is.EqualTo(new SctpDescription(5000, expected)));
    }

    [Test]
    public void PublishAnswer_RejectsAnUnbundledOrMalformedDataSection()
    {
        var unbundled = SdpFixtures.Parse(SdpFixtures.ChromeRecvOnly);
        unbundled.Groups[0] = new SdpGroup(SdpGroup.Bundle, ["0", "1"]);
        var badPort = SdpFixtures.Parse(SdpFixtures.ChromeRecvOnly);
        DataSection(badPort).OtherAttributes.RemoveAll(a => a.Name == "sctp-port");
        DataSection(badPort).OtherAttributes.Add(new SdpAttribute("sctp-port", "70000"));
        var legacy = SdpFixtures.Parse(SdpFixtures.ChromeRecvOnly);
        DataSection(legacy).Proto = "DTLS/SCTP";
        DataSection(legacy).Formats[0] = "5000";

        foreach (var offer in new[] { unbundled, badPort, legacy })
        {
            var result = new PublishAnswerBuilder().Build(offer, SdpTestData.Server);
            Assert.That(result.DataChannels, Is.Null);
            Assert.That(DataSection(result.Answer).IsRejected, Is.True);
            Assert.That(result.Answer.Bundle!.Mids, Does.Not.Contain("2"));
        }
    }

    [Test]
    public void PublishAnswer_WithoutADataSection_HasNoDataChannels()
    {
        Assert.That(Chrome.DataChannels, Is.Null);
        Assert.That(Chrome.Answer.Media.Select(m => m.Kind), Does.Not.Contain("application"));
    }

    [Test]
    public void SubscribeOffer_CarriesADataSectionOnlyWhenAsked()
    {
        var builder = new SubscribeOfferBuilder();
        var tracks = new[] { SubscribeOfferBuilderTests.Track("a", Chrome.Tracks[0], 1000) };

        var without = builder.Build(tracks, SdpTestData.Server);
        var with = builder.Build(tracks, SdpTestData.Server, dataChannels: true);

        Assert.That(without.Offer.Media.Select(m => m.Kind), Is.EqualTo(new[] { "audio" }));
        var sdp = SdpParser.Parse(with.Sdp);
        Assert.That(sdp.Media.Select(m => (m.Kind, m.Mid)), Is.EqualTo(new[] { ("audio", "0"), ("application", "1") }));
        Assert.That(sdp.Bundle!.Mids, Is.EqualTo(new[] { "0", "1" }));
        var data = DataSection(sdp);
        Assert.That(SctpDescription.IsDataChannel(data), Is.True);
        Assert.That(data.Setup, Is.EqualTo(DtlsSetup.ActPass));
        Assert.That(data.Port, Is.EqualTo(50000));
        Assert.That(SctpDescription.From(data), Is.EqualTo(new SctpDescription(5000, 262144)));
    }

    [Test]
    public void SubscribeOffer_DataOnly_TagsTheBundle_AndKeepsItsPlaceAsTracksComeAndGo()
    {
        var builder = new SubscribeOfferBuilder();
        var v1 = builder.Build([], SdpTestData.Server, dataChannels: true);
        Assert.That(v1.Offer.Media.Select(m => (m.Kind, m.Mid)), Is.EqualTo(new[] { ("application", "0") }));
        Assert.That(v1.Offer.Bundle!.Mids, Is.EqualTo(new[] { "0" }));

        var v2 = builder.Build([SubscribeOfferBuilderTests.Track("v", Chrome.Tracks[1], 2000)], SdpTestData.Server, v1.State, dataChannels: true);
        Assert.That(v2.Offer.Media.Select(m => (m.Kind, m.Mid)), Is.EqualTo(new[] { ("application", "0"), ("video", "1") }));
        Assert.That(v2.Offer.Bundle!.Mids, Is.EqualTo(new[] { "0", "1" }));

        // The data tracks and the video leave: the data section stays (its association carries on), as m-lines must.
        var v3 = builder.Build([], SdpTestData.Server, v2.State);
        Assert.That(v3.Offer.Media.Select(m => (m.Kind, m.Mid, m.Port)), Is.EqualTo(new[] { ("application", "0", 50000), ("video", "1", 50000) }));
        Assert.That(v3.Offer.Bundle!.Mids, Is.EqualTo(new[] { "0", "1" }));
    }

    [Test]
    public void SubscribeOffer_DataAddedLater_GoesAfterExistingLines_AndTheAnswerReadsIt()
    {
        var builder = new SubscribeOfferBuilder();
        var v1 = builder.Build([SubscribeOfferBuilderTests.Track("a", Chrome.Tracks[0], 1000), SubscribeOfferBuilderTests.Track("v", Chrome.Tracks[1], 2000)], SdpTestData.Server);
        var v2 = builder.Build([SubscribeOfferBuilderTests.Track("a", Chrome.Tracks[0], 1000)], SdpTestData.Server, v1.State, dataChannels: true);
        Assert.That(v2.Offer.Media.Select(m => (m.Kind, m.Mid, m.Port)), Is.EqualTo(new[] { ("audio", "0", 50000), ("video", "1", 0), ("application", "2", 50000) }));
        Assert.That(v2.Offer.Bundle!.Mids, Is.EqualTo(new[] { "0", "2" }));

        var answer = SdpParser.Parse(v2.Sdp);
        answer.IceLite = false;
        foreach (var media in answer.Media)
        {
            media.Setup = DtlsSetup.Active;
            media.IceUfrag = "cli1";
            media.IcePwd = "clientpassword0123456789";
            media.Candidates.Clear();
            if (media.Kind == "audio") media.Direction = MediaDirection.RecvOnly;
        }
        DataSection(answer).OtherAttributes.RemoveAll(a => a.Name == "max-message-size");
        DataSection(answer).OtherAttributes.Add(new SdpAttribute("max-message-size", "100000"));

        var read = SubscribeAnswerReader.Read(v2.Offer, SdpWriter.Write(answer));

        Assert.That(read.DataChannels, Is.EqualTo(new SctpDescription(5000, 100000)));
        Assert.That(read.Find("2")!.Accepted, Is.True);
        Assert.That(read.Find("0")!.PayloadType, Is.EqualTo(111));
    }

    [Test]
    public void SubscribeAnswer_RefusingTheDataSection_HasNoDataChannels()
    {
        var offer = new SubscribeOfferBuilder().Build([SubscribeOfferBuilderTests.Track("a", Chrome.Tracks[0], 1000)], SdpTestData.Server, dataChannels: true);
        var answer = SdpParser.Parse(offer.Sdp);
        foreach (var media in answer.Media)
        {
            media.Setup = DtlsSetup.Active;
            media.Direction = media.Kind == "audio" ? MediaDirection.RecvOnly : null;
        }
        DataSection(answer).Port = 0;

        var read = SubscribeAnswerReader.Read(offer.Offer, SdpWriter.Write(answer));

        Assert.That(read.DataChannels, Is.Null);
        Assert.That(read.Find("1")!.Accepted, Is.False);
    }
}
