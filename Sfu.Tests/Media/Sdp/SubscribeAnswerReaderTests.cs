using Sfu.Media.Dtls;
using Sfu.Media.Sdp;

namespace Sfu.Tests.Media.Sdp;

public class SubscribeAnswerReaderTests
{
    private static readonly PublishAnswer Chrome = SdpTestData.Publish(SdpFixtures.ChromeSendOnly);

    private static SubscribeOffer Offer() => new SubscribeOfferBuilder().Build(
        [SubscribeOfferBuilderTests.Track("a", Chrome.Tracks[0], 1000), SubscribeOfferBuilderTests.Track("v", Chrome.Tracks[1], 2000)],
        SdpTestData.Server);

    // What a browser answers: recvonly, active DTLS, its own ICE credentials, the offered numbers.
    private static SessionDescription AnswerTo(SessionDescription offer)
    {
        var answer = new SessionDescription { Origin = new SdpOrigin("-", "77", 2, "IN", "IP4", "127.0.0.1") };
        answer.Groups.Add(offer.Bundle!);
        foreach (var offered in offer.Media)
        {
            var media = new MediaDescription(offered.Kind, offered.IsRejected ? 0 : 9, offered.Proto)
            {
                Mid = offered.Mid,
                Direction = offered.IsRejected ? MediaDirection.Inactive : MediaDirection.RecvOnly,
                IceUfrag = "cli1",
                IcePwd = "clientpassword0123456789",
                Fingerprint = new DtlsFingerprint("sha-256", "01:02:03"),
                Setup = DtlsSetup.Active,
                RtcpMux = true,
            };
            media.Codecs.AddRange(offered.Codecs.Select(c => c.Clone()));
            media.SetFormatsFromCodecs();
            media.HeaderExtensions.AddRange(offered.HeaderExtensions);
            answer.Media.Add(media);
        }

        return answer;
    }

    [Test]
    public void Offer_AsksForTransportCcFeedbackOnAudioAndVideo_AndTheAnswerSaysWhetherItWasAccepted()
    {
        var offer = Offer();
        foreach (var media in offer.Offer.Media)
        {
            Assert.That(media.FindExtension(RtpExtensionUris.TransportWideCc)?.Id, Is.EqualTo(3), media.Kind);
            Assert.That(media.Codecs.Where(c => !c.IsRtx).All(c => c.Feedback.Contains(RtcpFeedback.TransportCc)), Is.True, media.Kind);
        }

        var accepted = SubscribeAnswerReader.Read(offer.Offer, SdpWriter.Write(AnswerTo(offer.Offer)));
        // A subscriber that does not do transport-cc leaves the extension and the feedback out of its answer.
        var declining = AnswerTo(offer.Offer);
        foreach (var media in declining.Media)
        {
            media.HeaderExtensions.RemoveAll(e => e.Uri == RtpExtensionUris.TransportWideCc);
            foreach (var codec in media.Codecs) codec.Feedback.Remove(RtcpFeedback.TransportCc);
        }
        var declined = SubscribeAnswerReader.Read(offer.Offer, SdpWriter.Write(declining));

        Assert.Multiple(() =>
        {
            foreach (var mid in new[] { "0", "1" })
            {
                Assert.That(accepted.Find(mid)!.Extensions.TransportWideCc, Is.EqualTo(3));
                Assert.That(accepted.Find(mid)!.Feedback, Does.Contain(RtcpFeedback.TransportCc));
                Assert.That(declined.Find(mid)!.Extensions.TransportWideCc, Is.Null, "nothing is stamped for this subscriber");
                Assert.That(declined.Find(mid)!.Feedback, Does.Not.Contain(RtcpFeedback.TransportCc));
            }
        });
    }

    [Test]
    public void Answer_GivesAcceptedPayloadTypesExtensionsAndClientTransport()
    {
        var offer = Offer();

        var read = SubscribeAnswerReader.Read(offer.Offer, SdpWriter.Write(AnswerTo(offer.Offer)));

        Assert.That(read.Remote!.IceUfrag, Is.EqualTo("cli1"));
        Assert.That(read.Remote.IcePwd, Is.EqualTo("clientpassword0123456789"));
        Assert.That(read.Remote.Fingerprint, Is.EqualTo(new DtlsFingerprint("sha-256", "01:02:03")));
        Assert.That(read.Remote.Setup, Is.EqualTo(DtlsSetup.Active));
        var video = read.Find("1")!;
        Assert.That(video.Accepted, Is.True);
        Assert.That((video.PayloadType, video.RtxPayloadType), Is.EqualTo(((int?)96, (int?)97)));
        Assert.That(video.PayloadTypes, Is.EqualTo(new[] { 96, 97 }));
        Assert.That(video.Extensions, Is.EqualTo(new RtpHeaderExtensionIds(Mid: 4, AbsSendTime: 2, TransportWideCc: 3)));
        Assert.That(video.Feedback, Does.Contain(RtcpFeedback.Nack));
        Assert.That(read.Find("0")!.Extensions.AudioLevel, Is.EqualTo(1));
    }

    [Test]
    public void RealChromeAnswer_IsReadAgainstTheOfferItAnswered()
    {
        // The fixture is Chromium 156's answer to this same offer (audio, Chrome VP8, Safari H264).
        var safari = SdpTestData.Publish(SdpFixtures.SafariSendOnly);
        var offer = new SubscribeOfferBuilder().Build(
            [
                SubscribeOfferBuilderTests.Track("a", Chrome.Tracks[0], 1000),
                SubscribeOfferBuilderTests.Track("v", Chrome.Tracks[1], 2000),
                SubscribeOfferBuilderTests.Track("s", safari.Tracks[1], 3000),
            ],
            SdpTestData.Server);

        var read = SubscribeAnswerReader.Read(offer.Offer, SdpFixtures.Load(SdpFixtures.ChromeSubscribeAnswer));

        Assert.That(read.Remote!.IceUfrag, Is.EqualTo("fM8Z"));
        Assert.That(read.Remote.IcePwd, Is.EqualTo("iQ3b9uZzmcPozlk93Ij+6Cb0"));
        Assert.That(read.Remote.Setup, Is.EqualTo(DtlsSetup.Active));
        Assert.That(read.Remote.Fingerprint.Value, Does.StartWith("F0:D6:6F"));
        Assert.That(read.Media.Select(m => (m.Mid, m.Accepted, m.PayloadType, m.RtxPayloadType)), Is.EqualTo(new[]
        {
            ("0", true, (int?)111, (int?)null), ("1", true, 96, 97), ("2", true, 98, 99),
        }));
        Assert.That(read.Find("0")!.Extensions, Is.EqualTo(new RtpHeaderExtensionIds(Mid: 4, AbsSendTime: 2, TransportWideCc: 3, AudioLevel: 1)));
        Assert.That(read.Find("2")!.Feedback, Is.EqualTo(new[] { RtcpFeedback.GoogRemb, RtcpFeedback.TransportCc, RtcpFeedback.Fir, RtcpFeedback.Nack, RtcpFeedback.Pli }));
    }

    [Test]
    public void AnswerWithoutRtx_ReportsNoRtxPayloadType()
    {
        var offer = Offer();
        var answer = AnswerTo(offer.Offer);
        answer.Media[1].Codecs.RemoveAll(c => c.IsRtx);
        answer.Media[1].SetFormatsFromCodecs();

        var read = SubscribeAnswerReader.Read(offer.Offer, answer);

        Assert.That(read.Find("1")!.RtxPayloadType, Is.Null);
    }

    [Test]
    public void RejectedLine_IsReportedNotAccepted()
    {
        var offer = Offer();
        var answer = AnswerTo(offer.Offer);
        answer.Media[1].Port = 0;

        var read = SubscribeAnswerReader.Read(offer.Offer, answer);

        Assert.That(read.Find("1")!.Accepted, Is.False);
        Assert.That(read.Find("1")!.PayloadType, Is.Null);
        Assert.That(read.Find("0")!.Accepted, Is.True);
    }

    [Test]
    public void AnswerWithUnofferedPayloadType_IsRefused()
    {
        var offer = Offer();
        var answer = AnswerTo(offer.Offer);
        answer.Media[1].Codecs[0].PayloadType = 100;
        answer.Media[1].SetFormatsFromCodecs();

        var ex = Assert.Throws<SdpNegotiationException>(() => SubscribeAnswerReader.Read(offer.Offer, answer));
        Assert.That(ex!.Message, Does.Contain("100"));
    }

    [Test]
    public void AnswerWithWrongLineCountOrMid_IsRefused()
    {
        var offer = Offer();
        var shorter = AnswerTo(offer.Offer);
        shorter.Media.RemoveAt(1);
        var renamed = AnswerTo(offer.Offer);
        renamed.Media[0].Mid = "x";

        Assert.Throws<SdpNegotiationException>(() => SubscribeAnswerReader.Read(offer.Offer, shorter));
        Assert.Throws<SdpNegotiationException>(() => SubscribeAnswerReader.Read(offer.Offer, renamed));
    }

    [Test]
    public void MalformedAnswerText_ThrowsParseExceptionWithLine()
    {
        var ex = Assert.Throws<SdpParseException>(() => SubscribeAnswerReader.Read(Offer().Offer, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio x UDP/TLS/RTP/SAVPF 111\r\n"));

        Assert.That(ex!.LineNumber, Is.EqualTo(5));
    }
}
