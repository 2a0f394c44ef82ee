using System.Globalization;
using Sfu.Client.DataChannels;
using Sfu.Client.Transport;
using Sfu.Media.Sdp;

namespace Sfu.Client.Negotiation;

/// <summary>
/// The client's two SDP documents, shaped like a browser's: the publish offer (sendonly, setup actpass)
/// and the answer to a subscribe offer (recvonly, setup active). Built as <see cref="SessionDescription"/>s
/// and written by Sfu.Media's writer, so they go through the same code the server parses with.
/// </summary>
public static class ClientSdp
{
    /// <summary>Extension ids the client offers; the server's answer keeps the offerer's ids.</summary>
    public const int AudioLevelId = 1;
    public const int AbsSendTimeId = 2;
    public const int TransportWideCcId = 3;
    public const int MidId = 4;

    public const int OpusPayloadType = 111;
    public const int Vp8PayloadType = 96;
    public const int RtxPayloadType = 97;

    public const string AudioMid = "0";
    public const string VideoMid = "1";
    public const string DataMid = "2";

    /// <param name="data">Add a data channel section (RFC 8841), as a browser does once a data channel exists.</param>
    public static SessionDescription PublishOffer(ClientTransport transport, PublishStreams streams, bool data = false)
    {
        var offer = new SessionDescription { Origin = SdpOrigins.New(), MsidSemantic = new MsidSemantic("WMS", [streams.StreamId]) };
        var mids = new List<string>();
        if (streams.AudioSsrc is { } audioSsrc)
        {
            var audio = Section(MediaDescription.AudioKind, AudioMid, transport, DtlsSetup.ActPass, MediaDirection.SendOnly);
            var opus = new RtpCodec(OpusPayloadType, CodecNames.Opus, 48000, 2) { Parameters = FormatParameters.Parse("minptime=10;useinbandfec=1") };
            opus.Feedback.Add(RtcpFeedback.TransportCc);
            audio.Codecs.Add(opus);
            audio.HeaderExtensions.Add(new RtpHeaderExtension(AudioLevelId, RtpExtensionUris.AudioLevel));
            AddCommonExtensions(audio);
            audio.Msids.Add(new Msid(streams.StreamId, streams.AudioTrackId));
            AddSsrc(audio, audioSsrc, streams);
            audio.SetFormatsFromCodecs();
            offer.Media.Add(audio);
            mids.Add(AudioMid);
        }

        if (streams.VideoSsrc is { } videoSsrc)
        {
            var video = Section(MediaDescription.VideoKind, VideoMid, transport, DtlsSetup.ActPass, MediaDirection.SendOnly);
            var vp8 = new RtpCodec(Vp8PayloadType, CodecNames.Vp8, 90000);
            vp8.Feedback.AddRange([RtcpFeedback.GoogRemb, RtcpFeedback.TransportCc, RtcpFeedback.Fir, RtcpFeedback.Nack, RtcpFeedback.Pli]);
            var rtx = new RtpCodec(RtxPayloadType, CodecNames.Rtx, 90000) { Parameters = FormatParameters.Parse($"apt={Vp8PayloadType}") };
            video.Codecs.AddRange([vp8, rtx]);
            AddCommonExtensions(video);
            video.Msids.Add(new Msid(streams.StreamId, streams.VideoTrackId));
            if (streams.VideoRtxSsrc is { } rtxSsrc)
            {
                video.SsrcGroups.Add(new SsrcGroup(SsrcGroup.Fid, [videoSsrc, rtxSsrc]));
                AddSsrc(video, videoSsrc, streams);
                AddSsrc(video, rtxSsrc, streams);
            }
            else
            {
                AddSsrc(video, videoSsrc, streams);
            }

            video.SetFormatsFromCodecs();
            offer.Media.Add(video);
            mids.Add(VideoMid);
        }

        if (data)
        {
            offer.Media.Add(DataSection(DataMid, transport, DtlsSetup.ActPass));
            mids.Add(DataMid);
        }

        offer.Groups.Add(new SdpGroup(SdpGroup.Bundle, mids));
        return offer;
    }

    /// <summary>
    /// Answers a subscribe offer: every live section recvonly with the offered codecs and extensions,
    /// closed sections closed, our ICE credentials and fingerprint, DTLS client (active) as a browser answers.
    /// </summary>
    public static SessionDescription SubscribeAnswer(SessionDescription offer, ClientTransport transport, SdpOrigin? previous = null)
    {
        var answer = new SessionDescription { Origin = SdpOrigins.Next(previous), MsidSemantic = new MsidSemantic("WMS", []) };
        foreach (var offered in offer.Media)
        {
            if (offered.IsRejected)
            {
                var closed = new MediaDescription(offered.Kind, 0, offered.Proto) { Mid = offered.Mid, Direction = MediaDirection.Inactive, Connection = "IN IP4 0.0.0.0" };
                closed.Formats.AddRange(offered.Formats);
                answer.Media.Add(closed);
                continue;
            }

            if (SctpDescription.IsDataChannel(offered))
            {
                answer.Media.Add(DataSection(offered.Mid!, transport, DtlsSetup.Active));
                continue;
            }

            var direction = offer.DirectionOf(offered).AnswerAsReceiver();
            var media = Section(offered.Kind, offered.Mid!, transport, DtlsSetup.Active, direction);
            media.RtcpReducedSize = offered.RtcpReducedSize;
            media.Codecs.AddRange(offered.Codecs.Select(c => c.Clone()));
            media.HeaderExtensions.AddRange(offer.HeaderExtensionsFor(offered));
            media.SetFormatsFromCodecs();
            answer.Media.Add(media);
        }

        if (offer.Bundle is { } bundle)
        {
            answer.Groups.Add(new SdpGroup(SdpGroup.Bundle, bundle.Mids));
        }

        return answer;
    }

    private static MediaDescription Section(string kind, string mid, ClientTransport transport, DtlsSetup setup, MediaDirection direction) =>
        new(kind, 9, MediaDescription.WebRtcRtpProto)
        {
            Connection = "IN IP4 0.0.0.0",
            Mid = mid,
            Direction = direction,
            IceUfrag = transport.LocalIce.Ufrag,
            IcePwd = transport.LocalIce.Password,
            Fingerprint = transport.LocalFingerprint,
            Setup = setup,
            RtcpMux = true,
            RtcpReducedSize = true,
        };

    /// <summary>
    /// The negotiated data channel parameters of a description's first live data section (the server's answer to a
    /// publish offer, or its subscribe offer); null when it has none.
    /// </summary>
    public static SctpDescription? DataChannelsOf(SessionDescription description)
    {
        var section = description.Media.Find(m => !m.IsRejected && SctpDescription.IsDataChannel(m));
        return section is null ? null : SctpDescription.From(section);
    }

    private static MediaDescription DataSection(string mid, ClientTransport transport, DtlsSetup setup)
    {
        var media = new MediaDescription(MediaDescription.ApplicationKind, 9, SctpDescription.Proto)
        {
            Connection = "IN IP4 0.0.0.0",
            Mid = mid,
            IceUfrag = transport.LocalIce.Ufrag,
            IcePwd = transport.LocalIce.Password,
            Fingerprint = transport.LocalFingerprint,
            Setup = setup,
        };
        media.Formats.Add(SctpDescription.Format);
        media.OtherAttributes.Add(new SdpAttribute("sctp-port", SctpDescription.DefaultPort.ToString(CultureInfo.InvariantCulture)));
        media.OtherAttributes.Add(new SdpAttribute("max-message-size", ClientDataChannels.ClientMaxMessageSize.ToString(CultureInfo.InvariantCulture)));
        return media;
    }

    private static void AddCommonExtensions(MediaDescription media)
    {
        media.HeaderExtensions.Add(new RtpHeaderExtension(AbsSendTimeId, RtpExtensionUris.AbsSendTime));
        media.HeaderExtensions.Add(new RtpHeaderExtension(TransportWideCcId, RtpExtensionUris.TransportWideCc));
        media.HeaderExtensions.Add(new RtpHeaderExtension(MidId, RtpExtensionUris.Mid));
    }

    private static void AddSsrc(MediaDescription media, uint ssrc, PublishStreams streams)
    {
        var description = media.GetOrAddSsrc(ssrc);
        description.Set("cname", streams.Cname);
        description.Set("msid", $"{streams.StreamId} {(media.Kind == MediaDescription.AudioKind ? streams.AudioTrackId : streams.VideoTrackId)}");
    }
}

/// <summary>What a publisher sends: SSRCs (null for a kind it does not publish) and the names that go with them.</summary>
public sealed record PublishStreams(uint? AudioSsrc, uint? VideoSsrc, uint? VideoRtxSsrc, string Cname, string StreamId, string AudioTrackId, string VideoTrackId);
