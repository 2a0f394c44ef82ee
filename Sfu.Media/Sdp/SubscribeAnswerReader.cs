namespace Sfu.Media.Sdp;

/// <summary>
/// What a subscriber accepted on one m-line of the server's offer. The numbers are those the
/// forwarding layer must write on this transport; they may differ from the publisher's.
/// </summary>
public sealed record SubscribeMediaAnswer(
    string Mid,
    bool Accepted,
    int? PayloadType,
    int? RtxPayloadType,
    IReadOnlyList<int> PayloadTypes,
    RtpHeaderExtensionIds Extensions,
    IReadOnlyList<RtcpFeedback> Feedback);

/// <summary>A subscriber's answer, read against the offer it answers.</summary>
/// <remarks>
/// <see cref="Remote"/> is null when the subscriber refused every m-line (there is then no transport);
/// <see cref="DataChannels"/> is the negotiated SCTP when it accepted the data channel section.
/// </remarks>
public sealed record SubscribeAnswer(RemoteTransportParameters? Remote, IReadOnlyList<SubscribeMediaAnswer> Media, SctpDescription? DataChannels = null)
{
    public SubscribeMediaAnswer? Find(string mid) => Media.FirstOrDefault(m => m.Mid == mid);
}

/// <summary>
/// Reads a subscriber's answer (RFC 3264 section 6): one m-line per offered m-line, same order,
/// codecs a subset of those offered, direction recvonly (or inactive / port 0 when refused).
/// Anything else is a broken answer and raises <see cref="SdpNegotiationException"/>.
/// </summary>
public static class SubscribeAnswerReader
{
    public static SubscribeAnswer Read(SessionDescription offer, string answerText) => Read(offer, SdpParser.Parse(answerText));

    public static SubscribeAnswer Read(SessionDescription offer, SessionDescription answer)
    {
        if (answer.Media.Count != offer.Media.Count)
        {
            throw new SdpNegotiationException($"the answer has {answer.Media.Count} m-lines but the offer has {offer.Media.Count}");
        }

        var result = new List<SubscribeMediaAnswer>(offer.Media.Count);
        SctpDescription? dataChannels = null;
        for (var i = 0; i < offer.Media.Count; i++)
        {
            var media = ReadMedia(offer.Media[i], answer.Media[i], answer, i);
            result.Add(media);
            if (media.Accepted && SctpDescription.IsDataChannel(offer.Media[i]))
            {
                dataChannels = (SctpDescription.From(answer.Media[i])
                    ?? throw new SdpNegotiationException($"mid '{media.Mid}': a=sctp-port or a=max-message-size is not a valid number")).NegotiatedWithServer();
            }
        }

        var anyAccepted = result.Exists(m => m.Accepted);
        var remote = anyAccepted ? RemoteTransportParameters.FromBundle(answer) : null;
        return new SubscribeAnswer(remote, result, dataChannels);
    }

    private static SubscribeMediaAnswer ReadMedia(MediaDescription offered, MediaDescription answered, SessionDescription answer, int index)
    {
        var mid = offered.Mid ?? throw new SdpNegotiationException($"offered m-line {index} has no mid");
        if (answered.Mid is { } answeredMid && answeredMid != mid)
        {
            throw new SdpNegotiationException($"answer m-line {index} has mid '{answeredMid}' but the offer has '{mid}'");
        }

        if (answered.Kind != offered.Kind)
        {
            throw new SdpNegotiationException($"answer m-line {index} is '{answered.Kind}' but the offer is '{offered.Kind}'");
        }

        var direction = answer.DirectionOf(answered);
        if (offered.IsRejected || answered.IsRejected || !direction.Receives())
        {
            return new SubscribeMediaAnswer(mid, false, null, null, [], new RtpHeaderExtensionIds(), []);
        }

        if (!offered.IsRtp)
        {
            // A data channel section: no codecs or extensions, only the SCTP parameters the caller reads.
            return new SubscribeMediaAnswer(mid, true, null, null, [], new RtpHeaderExtensionIds(), []);
        }

        foreach (var codec in answered.Codecs.Where(c => offered.FindCodec(c.PayloadType) is null))
        {
            throw new SdpNegotiationException($"mid '{mid}': the answer uses payload type {codec.PayloadType}, which was not offered");
        }

        var media = answered.Codecs.FirstOrDefault(c => !c.IsRtx)
            ?? throw new SdpNegotiationException($"mid '{mid}' is accepted but has no codec");
        var rtx = answered.Codecs.Find(c => c.IsRtx && c.AssociatedPayloadType == media.PayloadType);
        var feedback = media.Feedback.Concat(answered.WildcardFeedback).Distinct().ToArray();
        return new SubscribeMediaAnswer(
            mid,
            true,
            media.PayloadType,
            rtx?.PayloadType,
            answered.Codecs.Select(c => c.PayloadType).ToArray(),
            RtpHeaderExtensionIds.From(answer.HeaderExtensionsFor(answered)),
            feedback);
    }
}
