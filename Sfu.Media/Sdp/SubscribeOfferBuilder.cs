using System.Globalization;

namespace Sfu.Media.Sdp;

/// <summary>
/// Builds the server's offers for a subscribe transport (server offers, client answers): one
/// sendonly m-line per track, all BUNDLEd, the server ICE-lite and DTLS actpass.
/// JSEP (RFC 8829 5.2.2) never lets an m-line disappear: a track that goes away leaves its line
/// with port 0 and a=inactive; a later track of the same kind recycles it under a new mid, but only
/// once the closing offer has been answered (it was closed in an earlier version than this one).
/// The first line is the exception: it tags the BUNDLE group (RFC 8843), so it is never rejected but
/// parked, inactive and still bundled. Otherwise the offer that closes the last track would have no
/// BUNDLE group, which a browser using max-bundle refuses, and nothing could ever be received again.
/// A data channel section (RFC 8841) is added, after the lines that exist then, the first time the subscriber
/// receives data tracks; it stays for the life of the transport, since its SCTP association carries every data
/// channel the server opens to this subscriber (a channel closes by a stream reset, not by SDP).
/// Callers build offers one at a time per transport and pass each result's State to the next build.
/// </summary>
public sealed class SubscribeOfferBuilder
{
    /// <summary>
    /// Extension ids the server writes. Fixed for the whole transport because RFC 8843 requires an
    /// id to mean the same URI in every bundled m-line; values follow Chrome's so captures read alike.
    /// </summary>
    public static readonly IReadOnlyList<(int Id, string Uri, MediaKind? Kind)> Extensions =
    [
        (1, RtpExtensionUris.AudioLevel, MediaKind.Audio),
        (2, RtpExtensionUris.AbsSendTime, null),
        (3, RtpExtensionUris.TransportWideCc, null),
        (4, RtpExtensionUris.Mid, null),
    ];

    private static readonly RtcpFeedback[] VideoFeedback = [RtcpFeedback.GoogRemb, RtcpFeedback.TransportCc, RtcpFeedback.Fir, RtcpFeedback.Nack, RtcpFeedback.Pli];
    private static readonly RtcpFeedback[] AudioFeedback = [RtcpFeedback.TransportCc];

    /// <param name="dataChannels">Whether the subscriber receives data tracks, so the transport must carry SCTP.</param>
    public SubscribeOffer Build(IReadOnlyList<SubscribedTrack> tracks, LocalTransportParameters local, SubscribeOfferState? previous = null, bool dataChannels = false)
    {
        previous ??= SubscribeOfferState.Empty;
        var origin = previous.Slots.Count == 0 && previous.Origin.SessionVersion == 0 ? SdpOrigins.New() : SdpOrigins.Next(previous.Origin);
        var version = origin.SessionVersion;
        var allocator = new PayloadTypeAllocator(previous.PayloadTypes);
        var wanted = tracks.ToDictionary(t => t.TrackId);
        var placed = new HashSet<string>();
        var nextMid = previous.NextMid;
        var slots = new List<SubscribeSlot>(previous.Slots.Count + tracks.Count);

        // Tracks already on the transport keep their m-line; lines whose track left are closed.
        foreach (var slot in previous.Slots)
        {
            if (slot.TrackId is { } id && wanted.TryGetValue(id, out var track))
            {
                slots.Add(slot with { Codec = allocator.Assign(WithServerFeedback(track)) });
                placed.Add(id);
            }
            else
            {
                slots.Add(slot.IsOpen ? slot with { TrackId = null, ClosedInVersion = version } : slot);
            }
        }

        foreach (var track in tracks.Where(t => !placed.Contains(t.TrackId)))
        {
            var codec = allocator.Assign(WithServerFeedback(track));
            // Never the first line: it stays parked (see the class comment).
            var recycle = slots.FindIndex(Math.Min(1, slots.Count), s => !s.IsOpen && s.Kind == track.Kind && s.ClosedInVersion < version);
            var mid = (nextMid++).ToString(CultureInfo.InvariantCulture);
            var slot = new SubscribeSlot(mid, track.Kind, track.TrackId, codec);
            if (recycle >= 0)
            {
                slots[recycle] = slot;
            }
            else
            {
                slots.Add(slot);
            }
        }

        var data = previous.Data;
        if (data is null && dataChannels)
        {
            data = new SubscribeDataSection((nextMid++).ToString(CultureInfo.InvariantCulture), slots.Count);
        }

        var offer = new SessionDescription { Origin = origin, IceLite = true, MsidSemantic = new MsidSemantic("WMS", ["*"]) };
        var assignments = new List<SubscribeAssignment>();
        for (var i = 0; i < slots.Count; i++)
        {
            var slot = slots[i];
            if (slot.TrackId is { } id)
            {
                var track = wanted[id];
                offer.Media.Add(OpenSection(slot, track, local));
                assignments.Add(new SubscribeAssignment(slot.Mid, id, slot.Codec.PayloadType, slot.Codec.RtxPayloadType, track.Ssrc, track.Codec.RtxPayloadType is null ? null : track.RtxSsrc));
            }
            else
            {
                offer.Media.Add(i == 0 ? ParkedSection(slot, local) : ClosedSection(slot));
            }
        }

        var bundled = slots.Where(IsBundled).Select(s => s.Mid).ToList();
        if (data is not null)
        {
            offer.Media.Insert(data.Index, SctpDescription.Section(data.Mid, SctpDescription.Proto, DtlsSetup.ActPass, local));
            bundled.Insert(slots.Take(data.Index).Where(IsBundled).Count(), data.Mid);
        }

        if (bundled.Count > 0)
        {
            offer.Groups.Add(new SdpGroup(SdpGroup.Bundle, bundled));
        }

        var state = new SubscribeOfferState(origin, slots, nextMid, allocator.Snapshot, data);
        return new SubscribeOffer(offer, state, assignments);
    }

    // Open lines, and the first line even when parked (see the class comment).
    private static bool IsBundled(SubscribeSlot slot, int index) => slot.IsOpen || index == 0;

    // The subscriber's feedback goes to the SFU, which answers NACKs from its own buffer and turns
    // PLI/FIR into keyframe requests upstream, so the server offers its own set, not the publisher's.
    private static NegotiatedCodec WithServerFeedback(SubscribedTrack track) =>
        track.Codec with { Feedback = track.Kind == MediaKind.Audio ? AudioFeedback : VideoFeedback };

    private static MediaDescription OpenSection(SubscribeSlot slot, SubscribedTrack track, LocalTransportParameters local)
    {
        var media = BundledSection(slot, local, MediaDirection.SendOnly);
        media.Msids.Add(new Msid(track.StreamId, track.MsidTrackId));

        var msid = $"{track.StreamId} {track.MsidTrackId}";
        if (slot.Codec.RtxPayloadType is not null && track.RtxSsrc is { } rtxSsrc)
        {
            media.SsrcGroups.Add(new SsrcGroup(SsrcGroup.Fid, [track.Ssrc, rtxSsrc]));
            AddSsrc(media, track.Ssrc, track.Cname, msid);
            AddSsrc(media, rtxSsrc, track.Cname, msid);
        }
        else
        {
            AddSsrc(media, track.Ssrc, track.Cname, msid);
        }

        return media;
    }

    /// <summary>The first line once its track left: inactive, no stream, but still the BUNDLE group's transport.</summary>
    private static MediaDescription ParkedSection(SubscribeSlot slot, LocalTransportParameters local) =>
        BundledSection(slot, local, MediaDirection.Inactive);

    /// <summary>An m-line on the bundled transport: ICE, DTLS, candidate, extensions and codecs, no stream yet.</summary>
    private static MediaDescription BundledSection(SubscribeSlot slot, LocalTransportParameters local, MediaDirection direction)
    {
        var media = new MediaDescription(slot.Kind.ToSdp(), local.Port, MediaDescription.WebRtcRtpProto)
        {
            Connection = local.ConnectionLine,
            Mid = slot.Mid,
            Direction = direction,
            IceUfrag = local.IceUfrag,
            IcePwd = local.IcePwd,
            Fingerprint = local.Fingerprint,
            Setup = DtlsSetup.ActPass,
            RtcpMux = true,
            RtcpReducedSize = true,
            EndOfCandidates = true,
        };
        media.Candidates.AddRange(local.HostCandidates);
        media.HeaderExtensions.AddRange(Extensions
            .Where(e => e.Kind is null || e.Kind == slot.Kind)
            .Select(e => new RtpHeaderExtension(e.Id, e.Uri)));
        media.Codecs.AddRange(slot.Codec.ToRtpCodecs());
        media.SetFormatsFromCodecs();
        return media;
    }

    private static void AddSsrc(MediaDescription media, uint ssrc, string cname, string msid)
    {
        var description = media.GetOrAddSsrc(ssrc);
        description.Attributes.Add(new SdpAttribute("cname", cname));
        description.Attributes.Add(new SdpAttribute("msid", msid));
    }

    private static MediaDescription ClosedSection(SubscribeSlot slot)
    {
        var media = new MediaDescription(slot.Kind.ToSdp(), 0, MediaDescription.WebRtcRtpProto)
        {
            Connection = "IN IP4 0.0.0.0",
            Mid = slot.Mid,
            Direction = MediaDirection.Inactive,
        };
        // An m= line needs at least one format; the last codec keeps the line meaningful.
        media.Codecs.AddRange(slot.Codec.ToRtpCodecs().Take(1));
        media.Codecs[0].Feedback.Clear();
        media.SetFormatsFromCodecs();
        return media;
    }
}
