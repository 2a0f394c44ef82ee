using Sfu.Media.Sdp;

namespace Sfu.Tests.Media.Sdp;

public class PublishAnswerBuilderTests
{
    [TestCaseSource(typeof(SdpFixtures), nameof(SdpFixtures.PublishOffers))]
    public void Answer_IsIceLitePassiveBundledAndRecvOnly(string fixture)
    {
        var result = SdpTestData.Publish(fixture);
        var answer = SdpParser.Parse(result.Sdp);

        Assert.That(answer.IceLite, Is.True);
        Assert.That(answer.Bundle!.Mids, Is.EqualTo(new[] { "0", "1" }));
        Assert.That(answer.Media, Has.Count.EqualTo(2));
        foreach (var media in answer.Media)
        {
            Assert.That(media.Port, Is.EqualTo(50000));
            Assert.That(media.Connection, Is.EqualTo("IN IP4 203.0.113.10"));
            Assert.That(media.Setup, Is.EqualTo(DtlsSetup.Passive));
            Assert.That(media.IceUfrag, Is.EqualTo("srvU1234"));
            Assert.That(media.IcePwd, Is.EqualTo("serverpassword0123456789"));
            Assert.That(media.Fingerprint, Is.EqualTo(SdpTestData.Server.Fingerprint));
            Assert.That(media.RtcpMux, Is.True);
            Assert.That(media.Direction, Is.EqualTo(MediaDirection.RecvOnly));
            Assert.That(media.Msids, Is.Empty);
            Assert.That(media.Ssrcs, Is.Empty);
            var candidate = media.Candidates.Single();
            Assert.That((candidate.Address, candidate.Port, candidate.Type, candidate.Transport), Is.EqualTo(("203.0.113.10", 50000, "host", "udp")));
        }

        Assert.That(result.Tracks.Select(t => (t.Mid, t.Kind)), Is.EqualTo(new[] { ("0", MediaKind.Audio), ("1", MediaKind.Video) }));
    }

    [Test]
    public void ChromeOffer_AcceptsOpusAndVp8WithRtxKeepingOfferedNumbers()
    {
        var result = SdpTestData.Publish(SdpFixtures.ChromeSendOnly);
        var audio = result.Answer.Media[0];
        var video = result.Answer.Media[1];

        Assert.That(audio.Formats, Is.EqualTo(new[] { "111" }));
        Assert.That(audio.Codecs.Single().RtpmapValue(), Is.EqualTo("111 opus/48000/2"));
        Assert.That(audio.Codecs.Single().Parameters.ToString(), Is.EqualTo("minptime=10;useinbandfec=1"));
        Assert.That(audio.Codecs.Single().Feedback, Is.EqualTo(new[] { RtcpFeedback.TransportCc }));
        Assert.That(video.Formats, Is.EqualTo(new[] { "96", "97" }));
        Assert.That(video.FindCodec(97)!.AssociatedPayloadType, Is.EqualTo(96));
        Assert.That(video.FindCodec(96)!.Feedback, Is.EqualTo(new[] { RtcpFeedback.GoogRemb, RtcpFeedback.TransportCc, RtcpFeedback.Fir, RtcpFeedback.Nack, RtcpFeedback.Pli }));
    }

    [Test]
    public void ChromeOffer_AcceptsOnlySupportedExtensionsWithOfferedIds()
    {
        var result = SdpTestData.Publish(SdpFixtures.ChromeSendOnly);

        Assert.That(result.Answer.Media[0].HeaderExtensions.Select(e => (e.Id, e.Uri)), Is.EqualTo(new[]
        {
            (1, RtpExtensionUris.AudioLevel), (2, RtpExtensionUris.AbsSendTime), (3, RtpExtensionUris.TransportWideCc), (4, RtpExtensionUris.Mid),
        }));
        Assert.That(result.Answer.Media[1].HeaderExtensions.Select(e => e.Uri), Is.EquivalentTo(new[]
        {
            RtpExtensionUris.AbsSendTime, RtpExtensionUris.TransportWideCc, RtpExtensionUris.Mid, RtpExtensionUris.RtpStreamId, RtpExtensionUris.RepairedRtpStreamId,
        }));
        Assert.That(result.Answer.ExtmapAllowMixed, Is.True);
    }

    [Test]
    public void ChromeOffer_DescribesPublishedTracks()
    {
        var result = SdpTestData.Publish(SdpFixtures.ChromeSendOnly);
        var audio = result.Tracks[0];
        var video = result.Tracks[1];

        Assert.That(audio.Codec.PayloadType, Is.EqualTo(111));
        Assert.That(audio.Codec.ClockRate, Is.EqualTo(48000));
        Assert.That(audio.Codec.RtxPayloadType, Is.Null);
        Assert.That(audio.Extensions, Is.EqualTo(new RtpHeaderExtensionIds(Mid: 4, AbsSendTime: 2, TransportWideCc: 3, AudioLevel: 1)));
        Assert.That(audio.Streams, Is.EqualTo(new[] { new SignalledStream(799880229, null) }));
        Assert.That(audio.StreamId, Is.EqualTo("12d8ef6c-d618-41af-aba6-659e3e1fbc91"));
        Assert.That(audio.TrackId, Is.EqualTo("c98d9768-a2ea-41b0-b6c6-b75fdc9c5119"));
        Assert.That(audio.Cname, Is.EqualTo("xKb5sH2iG1FGcgDB"));

        Assert.That(video.Codec.Name, Is.EqualTo("VP8"));
        Assert.That((video.Codec.PayloadType, video.Codec.ClockRate, video.Codec.RtxPayloadType), Is.EqualTo((96, 90000, (int?)97)));
        Assert.That(video.Extensions, Is.EqualTo(new RtpHeaderExtensionIds(Mid: 4, AbsSendTime: 2, TransportWideCc: 3, RtpStreamId: 10, RepairedRtpStreamId: 11)));
        Assert.That(video.Streams, Is.EqualTo(new[] { new SignalledStream(3781407583, 1687660534) }));
        Assert.That(video.Rids, Is.Empty);
        Assert.That(video.IsSimulcast, Is.False);
    }

    [Test]
    public void ChromeOffer_RemoteTransportIsTheClients()
    {
        var result = SdpTestData.Publish(SdpFixtures.ChromeSendOnly);

        Assert.That(result.Remote.IceUfrag, Is.EqualTo("nFYV"));
        Assert.That(result.Remote.IcePwd, Is.EqualTo("edZtwRKVF1mEMyCvDqJMVoZq"));
        Assert.That(result.Remote.Fingerprint.Value, Does.StartWith("F5:BA:1B"));
        Assert.That(result.Remote.Setup, Is.EqualTo(DtlsSetup.ActPass));
    }

    [Test]
    public void ChromeSimulcast_AnsweredWithRecvRidsAndSimulcastRecv()
    {
        var result = SdpTestData.Publish(SdpFixtures.ChromeSimulcast);
        var video = result.Answer.Media[1];

        Assert.That(video.Rids.Select(r => r.ToString()), Is.EqualTo(new[] { "q recv", "h recv", "f recv" }));
        Assert.That(video.Simulcast!.ToString(), Is.EqualTo("recv q;h;f"));
        Assert.That(result.Sdp, Does.Contain("a=simulcast:recv q;h;f\r\n"));
        Assert.That(result.Tracks[1].Rids, Is.EqualTo(new[] { "q", "h", "f" }));
        Assert.That(result.Tracks[1].IsSimulcast, Is.True);
        Assert.That(result.Tracks[1].Streams, Is.Empty);
        Assert.That(result.Tracks[1].Extensions.RtpStreamId, Is.EqualTo(10));
        Assert.That(result.Tracks[1].Extensions.RepairedRtpStreamId, Is.EqualTo(11));
    }

    [Test]
    public void FirefoxSimulcast_AnswersSendOnlyExtensionsAsRecvOnlyAndPairsFidGroups()
    {
        var result = SdpTestData.Publish(SdpFixtures.FirefoxSimulcast);
        var video = result.Answer.Media[1];

        Assert.That(video.FindExtension(RtpExtensionUris.RtpStreamId), Is.EqualTo(new RtpHeaderExtension(9, RtpExtensionUris.RtpStreamId, MediaDirection.RecvOnly)));
        Assert.That(video.FindExtension(RtpExtensionUris.Mid)!.Direction, Is.Null);
        Assert.That(video.ExtmapAllowMixed, Is.True, "Firefox offers extmap-allow-mixed per m-line");
        Assert.That(video.Simulcast!.ToString(), Is.EqualTo("recv q;h;f"));
        var track = result.Tracks[1];
        Assert.That(track.Codec.Name, Is.EqualTo("VP8"));
        Assert.That((track.Codec.PayloadType, track.Codec.RtxPayloadType), Is.EqualTo((120, (int?)124)));
        Assert.That(track.Streams, Is.EqualTo(new[]
        {
            new SignalledStream(4137194329, 1150395842), new SignalledStream(2032479846, 3140312279), new SignalledStream(3359119404, 786325914),
        }));
        Assert.That(track.Cname, Is.EqualTo("{1083be5d-5ec4-4dd2-9b36-e17a846e1f9a}"));
    }

    [Test]
    public void FirefoxOffer_UsesSessionLevelFingerprintAndSkipsRecvOnlyExtensions()
    {
        var result = SdpTestData.Publish(SdpFixtures.FirefoxSendOnly);

        Assert.That(result.Remote.Fingerprint.Value, Does.StartWith("F2:8D:6D"));
        Assert.That(result.Remote.IceUfrag, Is.EqualTo("f35f8a65"));
        Assert.That(result.Answer.Media[0].HeaderExtensions.Select(e => e.Id), Is.EqualTo(new[] { 1, 3, 7 }), "csrc-audio-level/recvonly is not answered");
        Assert.That(result.Tracks[0].Codec.PayloadType, Is.EqualTo(109));
        Assert.That(result.Tracks[0].Extensions.TransportWideCc, Is.EqualTo(7));
        Assert.That(result.Tracks[1].Streams, Is.EqualTo(new[] { new SignalledStream(2442768406, 1937636091) }));
        Assert.That(result.Tracks[1].StreamId, Is.EqualTo("{8653167b-0afe-43c3-95ef-f7641da0ea80}"));
    }

    [Test]
    public void SafariOffer_ChoosesConstrainedBaselinePacketizationMode1()
    {
        var result = SdpTestData.Publish(SdpFixtures.SafariSendOnly);
        var video = result.Answer.Media[1];

        Assert.That(video.Formats, Is.EqualTo(new[] { "98", "99" }));
        var h264 = video.FindCodec(98)!;
        Assert.That(h264.Name, Is.EqualTo("H264"));
        Assert.That(h264.Parameters.ToString(), Is.EqualTo("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"));
        Assert.That(video.FindCodec(99)!.Parameters["apt"], Is.EqualTo("98"));
        Assert.That(result.Tracks[1].Codec.RtxPayloadType, Is.EqualTo(99));
    }

    [Test]
    public void SafariOffer_WithConstrainedHighPreferred_ChoosesTheHighProfileEntry()
    {
        var capabilities = MediaCapabilities.Default with { H264Profiles = [H264Profile.ConstrainedHigh, H264Profile.ConstrainedBaseline] };

        var result = SdpTestData.Publish(SdpFixtures.SafariSendOnly, capabilities);

        Assert.That(result.Tracks[1].Codec.PayloadType, Is.EqualTo(96));
        Assert.That(result.Tracks[1].Codec.Parameters["profile-level-id"], Is.EqualTo("640c1f"));
    }

    [Test]
    public void H264OnlyInPacketizationMode0_IsRejected()
    {
        var offer = SdpTestData.WithVideoFormats(SdpFixtures.ChromeSendOnly, 104, 107);

        var result = new PublishAnswerBuilder().Build(offer, SdpTestData.Server);

        Assert.That(result.Answer.Media[1].Port, Is.EqualTo(0));
        Assert.That(result.Answer.Bundle!.Mids, Is.EqualTo(new[] { "0" }));
        Assert.That(result.Tracks.Select(t => t.Kind), Is.EqualTo(new[] { MediaKind.Audio }));
    }

    [Test]
    public void H264Level_IsCappedByTheServerAndKeepsTheProfile()
    {
        var offer = SdpTestData.WithVideoFormats(SdpFixtures.ChromeSendOnly, 108, 109);
        offer.Media[1].FindCodec(108)!.Parameters.Set("profile-level-id", "42e034");
        var capabilities = MediaCapabilities.Default with { H264MaxLevel = 0x1f };

        var result = new PublishAnswerBuilder(capabilities).Build(offer, SdpTestData.Server);

        Assert.That(result.Tracks[1].Codec.Parameters["profile-level-id"], Is.EqualTo("42e01f"));
    }

    [Test]
    public void H264Level_BelowTheCapIsAnsweredAsOffered()
    {
        var offer = SdpTestData.WithVideoFormats(SdpFixtures.ChromeSendOnly, 108, 109);
        offer.Media[1].FindCodec(108)!.Parameters.Set("profile-level-id", "42e015");

        var result = new PublishAnswerBuilder().Build(offer, SdpTestData.Server);

        Assert.That(result.Tracks[1].Codec.Parameters["profile-level-id"], Is.EqualTo("42e015"));
    }

    [Test]
    public void Av1_IsAcceptedWhenOfferedFirst()
    {
        var offer = SdpTestData.WithVideoFormats(SdpFixtures.ChromeSimulcast, 45, 46, 96, 97);

        var result = new PublishAnswerBuilder().Build(offer, SdpTestData.Server);

        Assert.That(result.Tracks[1].Codec.Name, Is.EqualTo("AV1"));
        Assert.That((result.Tracks[1].Codec.PayloadType, result.Tracks[1].Codec.RtxPayloadType), Is.EqualTo((45, (int?)46)));
        Assert.That(result.Answer.Media[1].FindCodec(45)!.Parameters.ToString(), Is.EqualTo("level-idx=5;profile=0;tier=0"));
    }

    [Test]
    public void FirefoxAv1_IsAcceptedWhenItIsTheOnlyVideoCodec()
    {
        var offer = SdpTestData.WithVideoFormats(SdpFixtures.FirefoxSendOnly, 99, 100);

        var result = new PublishAnswerBuilder().Build(offer, SdpTestData.Server);

        Assert.That(result.Answer.Media[1].Formats, Is.EqualTo(new[] { "99", "100" }));
    }

    [Test]
    public void Vp9_PrefersProfile0OverProfile2()
    {
        var offer = SdpTestData.WithVideoFormats(SdpFixtures.ChromeSendOnly, 100, 101, 98, 99);

        var result = new PublishAnswerBuilder().Build(offer, SdpTestData.Server);

        Assert.That(result.Tracks[1].Codec.PayloadType, Is.EqualTo(98));
        Assert.That(result.Tracks[1].Codec.Parameters["profile-id"], Is.EqualTo("0"));
    }

    [Test]
    public void ServerVideoPreference_OverridesTheOfferOrder()
    {
        var capabilities = MediaCapabilities.Default with { VideoCodecPreference = ["H264", "VP8"] };

        var result = SdpTestData.Publish(SdpFixtures.ChromeSendOnly, capabilities);

        Assert.That(result.Tracks[1].Codec.PayloadType, Is.EqualTo(108), "42e01f packetization-mode 1");
    }

    [Test]
    public void DisabledCodecs_LeaveOnlyWhatTheServerAllows()
    {
        var capabilities = MediaCapabilities.Default with { Vp8 = false, H264 = false, Vp9 = false };

        var result = SdpTestData.Publish(SdpFixtures.ChromeSendOnly, capabilities);

        Assert.That(result.Tracks[1].Codec.Name, Is.EqualTo("AV1"));
    }

    [Test]
    public void RecvOnlyOfferWithDataChannel_AcceptsDataAndDescribesNoTracks()
    {
        var result = SdpTestData.Publish(SdpFixtures.ChromeRecvOnly);
        var answer = SdpParser.Parse(result.Sdp);

        Assert.That(result.Tracks, Is.Empty, "nothing is sent to the server");
        Assert.That(answer.Media[0].Direction, Is.EqualTo(MediaDirection.Inactive));
        Assert.That(answer.Media[1].Direction, Is.EqualTo(MediaDirection.Inactive));
        Assert.That(answer.Media[2].Kind, Is.EqualTo("application"));
        Assert.That(answer.Media[2].Port, Is.EqualTo(50000));
        Assert.That(answer.Bundle!.Mids, Is.EqualTo(new[] { "0", "1", "2" }));
        Assert.That(result.DataChannels, Is.EqualTo(new SctpDescription(5000, 262144)));
    }

    [Test]
    public void UnsupportedAudioCodecsOnly_RejectsTheAudioLine()
    {
        var offer = SdpFixtures.Parse(SdpFixtures.ChromeSendOnly);
        offer.Media[0].Codecs.RemoveAll(c => c.Is("opus"));
        offer.Media[0].SetFormatsFromCodecs();

        var result = new PublishAnswerBuilder().Build(offer, SdpTestData.Server);

        Assert.That(result.Answer.Media[0].IsRejected, Is.True);
        Assert.That(result.Answer.Media[0].Mid, Is.EqualTo("0"));
        Assert.That(result.Answer.Bundle!.Mids, Is.EqualTo(new[] { "1" }));
        Assert.That(result.Tracks.Single().Mid, Is.EqualTo("1"));
    }

    [Test]
    public void OfferWithoutBundle_IsRefused()
    {
        var offer = SdpFixtures.Parse(SdpFixtures.ChromeSendOnly);
        offer.Groups.Clear();

        var ex = Assert.Throws<SdpNegotiationException>(() => new PublishAnswerBuilder().Build(offer, SdpTestData.Server));
        Assert.That(ex!.Message, Does.Contain("BUNDLE"));
    }

    [Test]
    public void Renegotiation_KeepsSessionIdAndIncrementsVersion()
    {
        var builder = new PublishAnswerBuilder();
        var offer = SdpFixtures.Parse(SdpFixtures.ChromeSendOnly);
        var first = builder.Build(offer, SdpTestData.Server);

        var second = builder.Build(offer, SdpTestData.Server, first.Answer.Origin);

        Assert.That(second.Answer.Origin.SessionId, Is.EqualTo(first.Answer.Origin.SessionId));
        Assert.That(second.Answer.Origin.SessionVersion, Is.EqualTo(first.Answer.Origin.SessionVersion + 1));
    }

    [Test]
    public void SimulcastRidRestrictedToAnUnacceptedPayloadType_IsDropped()
    {
        var offer = SdpFixtures.Parse(SdpFixtures.ChromeSimulcast);
        var video = offer.Media[1];
        video.Rids[0] = new RidDescription("q", RidDirection.Send, FormatParameters.Parse("pt=45"));
        video.Rids[1] = new RidDescription("h", RidDirection.Send, FormatParameters.Parse("pt=96,45;max-width=640"));

        var result = new PublishAnswerBuilder().Build(offer, SdpTestData.Server);

        Assert.That(result.Answer.Media[1].Rids.Select(r => r.ToString()), Is.EqualTo(new[] { "h recv pt=96;max-width=640", "f recv" }));
        Assert.That(result.Tracks[1].Rids, Is.EqualTo(new[] { "h", "f" }));
    }
}
