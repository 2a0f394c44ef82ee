using Sfu.Media.Sdp;

namespace Sfu.Tests.Media.Sdp;

public class SdpParserTests
{
    [Test]
    public void ChromeSendOffer_ReadsSessionAttributes()
    {
        var sdp = SdpFixtures.Parse(SdpFixtures.ChromeSendOnly);

        Assert.That(sdp.Origin.SessionId, Is.EqualTo("2916593211215977616"));
        Assert.That(sdp.Origin.SessionVersion, Is.EqualTo(2UL));
        Assert.That(sdp.Bundle!.Mids, Is.EqualTo(new[] { "0", "1" }));
        Assert.That(sdp.ExtmapAllowMixed, Is.True);
        Assert.That(sdp.MsidSemantic!.Semantic, Is.EqualTo("WMS"));
        Assert.That(sdp.MsidSemantic.Identifiers, Is.EqualTo(new[] { "12d8ef6c-d618-41af-aba6-659e3e1fbc91" }));
        Assert.That(sdp.IceLite, Is.False);
        Assert.That(sdp.Media, Has.Count.EqualTo(2));
    }

    [Test]
    public void ChromeSendOffer_ReadsAudioSection()
    {
        var audio = SdpFixtures.Parse(SdpFixtures.ChromeSendOnly).Media[0];

        Assert.That(audio.Kind, Is.EqualTo("audio"));
        Assert.That(audio.Port, Is.EqualTo(9));
        Assert.That(audio.Proto, Is.EqualTo("UDP/TLS/RTP/SAVPF"));
        Assert.That(audio.Mid, Is.EqualTo("0"));
        Assert.That(audio.Direction, Is.EqualTo(MediaDirection.SendOnly));
        Assert.That(audio.RtcpMux, Is.True);
        Assert.That(audio.RtcpReducedSize, Is.True);
        Assert.That(audio.IceUfrag, Is.EqualTo("nFYV"));
        Assert.That(audio.IcePwd, Is.EqualTo("edZtwRKVF1mEMyCvDqJMVoZq"));
        Assert.That(audio.Fingerprint!.Algorithm, Is.EqualTo("sha-256"));
        Assert.That(audio.Fingerprint.Value, Does.StartWith("F5:BA:1B:0A"));
        Assert.That(audio.Setup, Is.EqualTo(DtlsSetup.ActPass));
        Assert.That(audio.Candidates, Has.Count.EqualTo(2));
        Assert.That(audio.Candidates[0].Port, Is.EqualTo(56433));
        Assert.That(audio.Candidates[0].Type, Is.EqualTo("host"));
        Assert.That(audio.Candidates[0].Extensions, Is.EqualTo("generation 0 network-cost 999"));

        Assert.That(audio.Codecs.Select(c => c.PayloadType), Is.EqualTo(new[] { 111, 63, 9, 0, 8, 13, 110, 126 }));
        var opus = audio.Codecs[0];
        Assert.That(opus.Name, Is.EqualTo("opus"));
        Assert.That(opus.ClockRate, Is.EqualTo(48000));
        Assert.That(opus.Channels, Is.EqualTo(2));
        Assert.That(opus.Parameters["useinbandfec"], Is.EqualTo("1"));
        Assert.That(opus.Parameters["minptime"], Is.EqualTo("10"));
        Assert.That(opus.Feedback, Is.EqualTo(new[] { RtcpFeedback.TransportCc }));
        Assert.That(audio.FindCodec(63)!.Parameters.ToString(), Is.EqualTo("111/111"));

        Assert.That(audio.HeaderExtensions.Select(e => (e.Id, e.Uri)), Is.EqualTo(new[]
        {
            (1, RtpExtensionUris.AudioLevel),
            (2, RtpExtensionUris.AbsSendTime),
            (3, RtpExtensionUris.TransportWideCc),
            (4, RtpExtensionUris.Mid),
        }));
        Assert.That(audio.Msids.Single(), Is.EqualTo(new Msid("12d8ef6c-d618-41af-aba6-659e3e1fbc91", "c98d9768-a2ea-41b0-b6c6-b75fdc9c5119")));
        Assert.That(audio.Ssrcs.Single().Ssrc, Is.EqualTo(799880229u));
        Assert.That(audio.Ssrcs.Single().Cname, Is.EqualTo("xKb5sH2iG1FGcgDB"));
    }

    [Test]
    public void ChromeSendOffer_ReadsVideoCodecsRtxAndFidGroup()
    {
        var video = SdpFixtures.Parse(SdpFixtures.ChromeSendOnly).Media[1];

        Assert.That(video.Codecs, Has.Count.EqualTo(23));
        var vp8 = video.FindCodec(96)!;
        Assert.That(vp8.Name, Is.EqualTo("VP8"));
        Assert.That(vp8.Feedback, Is.EqualTo(new[] { RtcpFeedback.GoogRemb, RtcpFeedback.TransportCc, RtcpFeedback.Fir, RtcpFeedback.Nack, RtcpFeedback.Pli }));
        Assert.That(video.FindCodec(97)!.IsRtx, Is.True);
        Assert.That(video.FindCodec(97)!.AssociatedPayloadType, Is.EqualTo(96));
        Assert.That(video.FindCodec(108)!.Parameters["profile-level-id"], Is.EqualTo("42e01f"));
        Assert.That(video.FindCodec(108)!.Parameters["packetization-mode"], Is.EqualTo("1"));
        Assert.That(video.FindCodec(45)!.Name, Is.EqualTo("AV1"));
        Assert.That(video.FindCodec(100)!.Parameters["profile-id"], Is.EqualTo("2"));

        Assert.That(video.FindExtension(RtpExtensionUris.RtpStreamId)!.Id, Is.EqualTo(10));
        Assert.That(video.FindExtension(RtpExtensionUris.RepairedRtpStreamId)!.Id, Is.EqualTo(11));
        Assert.That(video.FindExtension("urn:ietf:params:rtp-hdrext:toffset")!.Id, Is.EqualTo(14));

        var fid = video.SsrcGroups.Single();
        Assert.That(fid.Semantics, Is.EqualTo("FID"));
        Assert.That(fid.Ssrcs, Is.EqualTo(new[] { 3781407583u, 1687660534u }));
        Assert.That(video.FindSsrc(1687660534)!.Msid, Is.EqualTo("12d8ef6c-d618-41af-aba6-659e3e1fbc91 1d99c343-cd8c-438b-bb28-3c8ec32f6720"));
        Assert.That(video.OtherAttributes, Does.Contain(new SdpAttribute("rtcp-xr", "rcvr-rtt=all")));
    }

    [Test]
    public void ChromeSimulcastOffer_ReadsRidsAndSimulcast()
    {
        var video = SdpFixtures.Parse(SdpFixtures.ChromeSimulcast).Media[1];

        Assert.That(video.Rids.Select(r => (r.Id, r.Direction)), Is.EqualTo(new[] { ("q", RidDirection.Send), ("h", RidDirection.Send), ("f", RidDirection.Send) }));
        Assert.That(video.Simulcast!.Send.Select(s => s.Single().Id), Is.EqualTo(new[] { "q", "h", "f" }));
        Assert.That(video.Simulcast.Recv, Is.Empty);
        Assert.That(video.Ssrcs, Is.Empty, "Chrome signals no SSRCs for rid-based simulcast");
        Assert.That(video.FindExtension("https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension")!.Id, Is.EqualTo(12));
    }

    [Test]
    public void ChromeRecvOnlyOffer_ReadsDirectionsAndDataChannel()
    {
        var sdp = SdpFixtures.Parse(SdpFixtures.ChromeRecvOnly);

        Assert.That(sdp.Media.Select(m => m.Kind), Is.EqualTo(new[] { "audio", "video", "application" }));
        Assert.That(sdp.Media[0].Direction, Is.EqualTo(MediaDirection.RecvOnly));
        Assert.That(sdp.Media[1].Direction, Is.EqualTo(MediaDirection.RecvOnly));
        Assert.That(sdp.Media[0].Msids, Is.Empty);
        Assert.That(sdp.Bundle!.Mids, Is.EqualTo(new[] { "0", "1", "2" }));
        var data = sdp.Media[2];
        Assert.That(data.Proto, Is.EqualTo("UDP/DTLS/SCTP"));
        Assert.That(data.Formats, Is.EqualTo(new[] { "webrtc-datachannel" }));
        Assert.That(data.Codecs, Is.Empty);
        Assert.That(data.OtherAttributes, Does.Contain(new SdpAttribute("sctp-port", "5000")));
    }

    [Test]
    public void FirefoxOffer_ReadsSessionLevelTransportAndExtmapDirections()
    {
        var sdp = SdpFixtures.Parse(SdpFixtures.FirefoxSendOnly);

        Assert.That(sdp.Origin.Username, Is.EqualTo("mozilla...THIS_IS_SDPARTA-99.0"));
        Assert.That(sdp.Fingerprint!.Value, Does.StartWith("F2:8D:6D"));
        Assert.That(sdp.Direction, Is.EqualTo(MediaDirection.SendRecv), "Firefox writes a session-level a=sendrecv");
        Assert.That(sdp.MsidSemantic!.Identifiers, Is.EqualTo(new[] { "*" }));
        var audio = sdp.Media[0];
        Assert.That(sdp.DirectionOf(audio), Is.EqualTo(MediaDirection.SendOnly), "the media-level direction wins");
        Assert.That(sdp.FingerprintFor(audio), Is.EqualTo(sdp.Fingerprint), "inherited from the session level");
        Assert.That(audio.IceUfrag, Is.EqualTo("f35f8a65"));
        Assert.That(audio.EndOfCandidates, Is.True);
        Assert.That(audio.Candidates.Count(c => c.Component == 2), Is.EqualTo(4));
        Assert.That(audio.Candidates[2].Transport, Is.EqualTo("TCP"));
        Assert.That(audio.FindExtension("urn:ietf:params:rtp-hdrext:csrc-audio-level")!.Direction, Is.EqualTo(MediaDirection.RecvOnly));
        Assert.That(audio.FindExtension(RtpExtensionUris.TransportWideCc)!.Id, Is.EqualTo(7));
        Assert.That(audio.FindCodec(109)!.Name, Is.EqualTo("opus"));
        Assert.That(audio.FindCodec(9)!.Channels, Is.EqualTo(1));
        Assert.That(audio.FindCodec(101)!.Parameters.ToString(), Is.EqualTo("0-15"));

        var video = sdp.Media[1];
        Assert.That(video.Codecs.Where(c => !c.IsRtx).Select(c => c.Name), Is.EqualTo(new[] { "VP8", "VP9", "AV1", "ulpfec", "red" }));
        Assert.That(video.FindCodec(120)!.Parameters["max-fs"], Is.EqualTo("12288"));
        Assert.That(video.FindCodec(100)!.AssociatedPayloadType, Is.EqualTo(99));
        Assert.That(video.SsrcGroups.Single().Ssrcs, Is.EqualTo(new[] { 2442768406u, 1937636091u }));
        Assert.That(video.FindSsrc(2442768406)!.Msid, Is.Null, "Firefox sends only cname per SSRC");
    }

    [Test]
    public void FirefoxSimulcastOffer_ReadsRidsAndThreeFidGroups()
    {
        var video = SdpFixtures.Parse(SdpFixtures.FirefoxSimulcast).Media[1];

        Assert.That(video.Rids.Select(r => r.Id), Is.EqualTo(new[] { "q", "h", "f" }));
        Assert.That(video.Simulcast!.Send, Has.Count.EqualTo(3));
        Assert.That(video.FindExtension(RtpExtensionUris.RtpStreamId)!.Direction, Is.EqualTo(MediaDirection.SendOnly));
        Assert.That(video.SsrcGroups.Select(g => g.Semantics), Is.EqualTo(new[] { "FID", "FID", "FID" }));
        Assert.That(video.Ssrcs, Has.Count.EqualTo(6));
    }

    [Test]
    public void SafariOffer_ReadsH264Variants()
    {
        var video = SdpFixtures.Parse(SdpFixtures.SafariSendOnly).Media[1];

        var h264 = video.Codecs.Where(c => c.Is("H264")).Select(c => (c.PayloadType, c.Parameters["profile-level-id"], c.Parameters["packetization-mode"]));
        Assert.That(h264, Is.EqualTo(new[] { (96, "640c1f", "1"), (98, "42e01f", "1"), (100, "640c1f", "0"), (127, "42e01f", "0") }));
        Assert.That(video.Codecs[0].Name, Is.EqualTo("H264"), "Safari prefers H264");
    }

    [Test]
    public void Parse_AcceptsBareLineFeeds()
    {
        var sdp = SdpParser.Parse("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=audio 9 UDP/TLS/RTP/SAVPF 111\na=rtpmap:111 opus/48000/2\na=mid:a\n");

        Assert.That(sdp.Media.Single().Mid, Is.EqualTo("a"));
        Assert.That(sdp.Media.Single().Codecs.Single().Name, Is.EqualTo("opus"));
    }

    [Test]
    public void Parse_CodecLinesForUnlistedPayloadTypesAreKeptRaw()
    {
        var sdp = SdpParser.Parse("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:112 foo/8000\r\n");

        var media = sdp.Media.Single();
        Assert.That(media.Codecs.Select(c => c.PayloadType), Is.EqualTo(new[] { 111 }));
        Assert.That(media.OtherAttributes, Does.Contain(new SdpAttribute("rtpmap", "112 foo/8000")));
    }

    [Test]
    public void Parse_WildcardFeedbackIsKeptOnTheSection()
    {
        var sdp = SdpParser.Parse("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:* nack\r\n");

        Assert.That(sdp.Media.Single().WildcardFeedback, Is.EqualTo(new[] { RtcpFeedback.Nack }));
    }

    [Test]
    public void Parse_SimulcastWithAlternativesAndPausedStreams()
    {
        var sdp = SdpParser.Parse("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rid:1 send pt=96;max-width=320\r\na=simulcast:recv 1;~2,3 send 4\r\n");

        var media = sdp.Media.Single();
        Assert.That(media.Rids[0].PayloadTypes, Is.EqualTo(new[] { 96 }));
        Assert.That(media.Rids[0].Restrictions["max-width"], Is.EqualTo("320"));
        Assert.That(media.Simulcast!.Recv, Has.Count.EqualTo(2));
        Assert.That(media.Simulcast.Recv[1], Is.EqualTo(new[] { new SimulcastRid("2", Paused: true), new SimulcastRid("3") }));
        Assert.That(media.Simulcast.Send.Single().Single().Id, Is.EqualTo("4"));
        Assert.That(media.Simulcast.ToString(), Is.EqualTo("send 4 recv 1;~2,3"));
    }
}
