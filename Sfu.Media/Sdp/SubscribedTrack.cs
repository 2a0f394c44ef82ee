namespace Sfu.Media.Sdp;

/// <summary>
/// A track a subscriber should receive, as the router describes it: the publisher's codec, and the
/// SSRCs, cname and msid the SFU uses when sending it to this subscriber.
/// </summary>
public sealed record SubscribedTrack(
    string TrackId,
    MediaKind Kind,
    NegotiatedCodec Codec,
    uint Ssrc,
    uint? RtxSsrc,
    string Cname,
    string StreamId,
    string MsidTrackId);

/// <summary>
/// One m-line of a subscribe offer across versions. <see cref="TrackId"/> is null once the track
/// went away; the line then stays, with port 0, until a new track of the same kind recycles it
/// (the first line stays bundled and inactive instead: see <see cref="SubscribeOfferBuilder"/>).
/// </summary>
public sealed record SubscribeSlot(string Mid, MediaKind Kind, string? TrackId, NegotiatedCodec Codec, ulong ClosedInVersion = 0)
{
    public bool IsOpen => TrackId is not null;
}

/// <summary>
/// What one subscribe transport's next offer must stay consistent with: the o= line, the m-lines
/// in order, the next unused mid, the payload types given to each codec format so far, and the data channel section
/// once there is one.
/// </summary>
public sealed record SubscribeOfferState(
    SdpOrigin Origin,
    IReadOnlyList<SubscribeSlot> Slots,
    int NextMid,
    IReadOnlyDictionary<string, int> PayloadTypes,
    SubscribeDataSection? Data = null)
{
    public static SubscribeOfferState Empty { get; } = new(SdpOrigin.Default with { SessionVersion = 0 }, [], 0, new Dictionary<string, int>());
}

/// <summary>Where one subscribed track ended up in an offer, with the payload types offered for it.</summary>
public sealed record SubscribeAssignment(string Mid, string TrackId, int PayloadType, int? RtxPayloadType, uint Ssrc, uint? RtxSsrc);

/// <summary>A subscribe offer, the state to pass to the next build, and where each track went.</summary>
public sealed record SubscribeOffer(SessionDescription Offer, SubscribeOfferState State, IReadOnlyList<SubscribeAssignment> Assignments)
{
    public string Sdp => SdpWriter.Write(Offer);

    public ulong Version => Offer.Origin.SessionVersion;
}

/// <summary>The data channel m-line of a subscribe offer: its mid, and its position among the m-lines (before the slot of that index).</summary>
public sealed record SubscribeDataSection(string Mid, int Index);
