namespace Sfu.Media.Sdp;

/// <summary>One RTP stream a publisher signalled by SSRC: the media SSRC and, from an FID group, its RTX SSRC.</summary>
public sealed record SignalledStream(uint Ssrc, uint? RtxSsrc);

/// <summary>
/// What the router needs to create a producer for one accepted m-line of a publish offer.
/// For simulcast, <see cref="Rids"/> lists the layers in the order the client offered them (by
/// convention lowest first) and the SSRCs are usually not signalled (Chrome): the media path learns
/// them from the rid header extensions.
/// </summary>
public sealed record PublishedTrack(
    string Mid,
    MediaKind Kind,
    NegotiatedCodec Codec,
    RtpHeaderExtensionIds Extensions,
    IReadOnlyList<SignalledStream> Streams,
    IReadOnlyList<string> Rids,
    string? StreamId,
    string? TrackId,
    string? Cname)
{
    public bool IsSimulcast => Rids.Count > 1 || Streams.Count > 1;
}

/// <summary>The answer to a publish offer and what it accepted.</summary>
/// <param name="DataChannels">The negotiated SCTP parameters when the answer accepted a data channel section.</param>
public sealed record PublishAnswer(SessionDescription Answer, IReadOnlyList<PublishedTrack> Tracks, RemoteTransportParameters Remote, SctpDescription? DataChannels = null)
{
    public string Sdp => SdpWriter.Write(Answer);
}
