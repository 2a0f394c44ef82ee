namespace Sfu.Media.Sdp;

/// <summary>
/// Answers a client's publish offer (RFC 8829 section 5.3): the server is ICE-lite and DTLS passive,
/// receives everything on one BUNDLE transport, takes one codec per m-line and keeps the offerer's
/// payload type numbers and extension ids. The first bundled data channel section (RFC 8841) is accepted too, so
/// the transport carries SCTP. Sections it cannot use are rejected with port 0.
/// </summary>
public sealed class PublishAnswerBuilder(MediaCapabilities capabilities)
{
    public PublishAnswerBuilder()
        : this(MediaCapabilities.Default)
    {
    }

    /// <param name="offer">The client's offer.</param>
    /// <param name="local">The server's ICE/DTLS parameters and host candidate.</param>
    /// <param name="previousOrigin">The o= line of the previous answer on this transport, so a renegotiation keeps the session id.</param>
    public PublishAnswer Build(SessionDescription offer, LocalTransportParameters local, SdpOrigin? previousOrigin = null)
    {
        var bundle = offer.Bundle ?? throw new SdpNegotiationException("the offer has no a=group:BUNDLE; the server carries all media on one transport");
        var remote = RemoteTransportParameters.FromBundle(offer);

        var answer = new SessionDescription
        {
            Origin = SdpOrigins.Next(previousOrigin),
            IceLite = true,
            ExtmapAllowMixed = offer.ExtmapAllowMixed,
            MsidSemantic = new MsidSemantic("WMS", []),
        };
        var tracks = new List<PublishedTrack>();
        var accepted = new List<string>();
        SctpDescription? dataChannels = null;

        foreach (var offered in offer.Media)
        {
            if (dataChannels is null && IsUsableDataChannel(offered, bundle) && SctpDescription.From(offered) is { } sctp)
            {
                dataChannels = sctp.NegotiatedWithServer();
                answer.Media.Add(SctpDescription.Section(offered.Mid!, offered.Proto, DtlsSetup.Passive, local));
                accepted.Add(offered.Mid!);
                continue;
            }

            var kind = MediaKindText.FromSdp(offered.Kind);
            var codec = kind is { } k && IsUsable(offered, bundle) ? CodecMatcher.Select(offered, k, capabilities) : null;
            if (codec is null)
            {
                answer.Media.Add(Rejected(offered));
                continue;
            }

            var direction = offer.DirectionOf(offered);
            var media = Accepted(offer, offered, kind!.Value, codec, direction, local);
            answer.Media.Add(media);
            accepted.Add(offered.Mid!);
            if (direction.Sends())
            {
                tracks.Add(Describe(offered, media, kind.Value, codec));
            }
        }

        if (accepted.Count > 0)
        {
            answer.Groups.Add(new SdpGroup(SdpGroup.Bundle, accepted));
        }

        return new PublishAnswer(answer, tracks, remote, dataChannels);
    }

    // A section the server can receive on the shared transport: live, RTP, bundled, rtcp-muxed.
    private static bool IsUsable(MediaDescription offered, SdpGroup bundle) =>
        !offered.IsRejected && offered.IsRtp && offered.RtcpMux && offered.Mid is { } mid && bundle.Mids.Contains(mid);

    private static bool IsUsableDataChannel(MediaDescription offered, SdpGroup bundle) =>
        !offered.IsRejected && SctpDescription.IsDataChannel(offered) && offered.Mid is { } mid && bundle.Mids.Contains(mid);

    private static MediaDescription Rejected(MediaDescription offered)
    {
        var media = new MediaDescription(offered.Kind, 0, offered.Proto) { Connection = "IN IP4 0.0.0.0", Mid = offered.Mid };
        media.Formats.AddRange(offered.Formats);
        if (offered.IsRtp)
        {
            media.Direction = MediaDirection.Inactive;
        }

        return media;
    }

    private MediaDescription Accepted(SessionDescription offer, MediaDescription offered, MediaKind kind, NegotiatedCodec codec, MediaDirection offeredDirection, LocalTransportParameters local)
    {
        var media = new MediaDescription(offered.Kind, local.Port, offered.Proto)
        {
            Connection = local.ConnectionLine,
            Mid = offered.Mid,
            Direction = offeredDirection.AnswerAsReceiver(),
            IceUfrag = local.IceUfrag,
            IcePwd = local.IcePwd,
            Fingerprint = local.Fingerprint,
            Setup = DtlsSetup.Passive,
            RtcpMux = true,
            RtcpReducedSize = offered.RtcpReducedSize,
            ExtmapAllowMixed = offered.ExtmapAllowMixed,
            EndOfCandidates = true,
        };
        media.Candidates.AddRange(local.HostCandidates);
        media.Codecs.AddRange(codec.ToRtpCodecs());
        media.SetFormatsFromCodecs();
        media.HeaderExtensions.AddRange(AcceptedExtensions(offer.HeaderExtensionsFor(offered), kind));
        AnswerSimulcast(offered, codec, media);
        return media;
    }

    private IEnumerable<RtpHeaderExtension> AcceptedExtensions(IEnumerable<RtpHeaderExtension> offered, MediaKind kind)
    {
        var supported = capabilities.ExtensionsFor(kind);
        foreach (var extension in offered)
        {
            // An extension the offerer only receives is of no use to a server that only receives.
            if (!supported.Contains(extension.Uri) || extension.Direction is MediaDirection.RecvOnly or MediaDirection.Inactive)
            {
                continue;
            }

            MediaDirection? direction = extension.Direction == MediaDirection.SendOnly ? MediaDirection.RecvOnly : null;
            yield return new RtpHeaderExtension(extension.Id, extension.Uri, direction);
        }
    }

    /// <summary>
    /// RFC 8853 section 5.3: the answer mirrors the offered send streams as recv, keeping only rids
    /// that were declared with a=rid and whose pt restriction still allows the chosen codec.
    /// </summary>
    private static void AnswerSimulcast(MediaDescription offered, NegotiatedCodec codec, MediaDescription answer)
    {
        if (offered.Simulcast is not { Send.Count: > 0 } simulcast)
        {
            return;
        }

        var result = new SimulcastDescription();
        foreach (var alternatives in simulcast.Send)
        {
            var kept = alternatives.Where(a => UsableRid(offered, a.Id, codec) is not null).ToArray();
            if (kept.Length > 0)
            {
                result.Recv.Add(kept);
            }
        }

        if (result.Recv.Count == 0)
        {
            return;
        }

        foreach (var rid in result.Recv.SelectMany(a => a))
        {
            var offeredRid = UsableRid(offered, rid.Id, codec)!;
            var restrictions = offeredRid.Restrictions.Clone();
            if (restrictions.Contains("pt"))
            {
                restrictions.Set("pt", codec.PayloadType.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            answer.Rids.Add(new RidDescription(rid.Id, RidDirection.Recv, restrictions));
        }

        answer.Simulcast = result;
    }

    private static RidDescription? UsableRid(MediaDescription offered, string id, NegotiatedCodec codec) =>
        offered.Rids.Find(r => r.Id == id && r.Direction == RidDirection.Send && (r.PayloadTypes.Count == 0 || r.PayloadTypes.Contains(codec.PayloadType)));

    private static PublishedTrack Describe(MediaDescription offered, MediaDescription answered, MediaKind kind, NegotiatedCodec codec)
    {
        var msid = offered.Msids.FirstOrDefault();
        var firstSsrc = offered.Ssrcs.FirstOrDefault();
        if (msid is null && firstSsrc?.Msid is { } legacy)
        {
            // Older Chrome and some native stacks carry msid only on the a=ssrc lines.
            var parts = legacy.Split(' ', 2);
            msid = new Msid(parts[0], parts.Length > 1 ? parts[1] : null);
        }

        var rids = answered.Simulcast?.Recv.SelectMany(a => a).Select(r => r.Id).ToArray() ?? [];
        return new PublishedTrack(
            offered.Mid!,
            kind,
            codec,
            RtpHeaderExtensionIds.From(answered.HeaderExtensions),
            SignalledStreams.From(offered),
            rids,
            msid?.StreamId,
            msid?.TrackId,
            firstSsrc?.Cname);
    }
}
