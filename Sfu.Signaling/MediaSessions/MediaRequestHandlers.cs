using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Sfu.Media;
using Sfu.Signaling.Diagnostics;
using Sfu.Media.Routing;
using Sfu.Media.Sdp;
using Sfu.Signaling.Connections;
using Sfu.Signaling.Protocol;
using Sfu.Signaling.Rooms;
using Sfu.Signaling.Sessions;

namespace Sfu.Signaling.MediaSessions;

/// <summary>Shared checks of the media requests: the room has media, and SDP problems become <c>bad_request</c>.</summary>
internal static class MediaRequests
{
    public static RoomMedia MediaOf(Session session) =>
        session.Peer.Room.Media ?? throw new ProtocolException(ErrorCode.Internal, "this server runs without a media plane");

    public static SessionDescription ParseSdp(string sdp)
    {
        try
        {
            return SdpParser.Parse(sdp);
        }
        catch (SdpParseException ex)
        {
            throw new ProtocolException(ErrorCode.BadRequest, $"sdp: {ex.Message}");
        }
    }

    /// <summary>Runs a negotiation step, turning what is wrong with the client's SDP into <c>bad_request</c>.</summary>
    public static async Task<T> NegotiateAsync<T>(Func<Task<T>> step)
    {
        try
        {
            return await step().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SdpParseException or SdpNegotiationException or FormatException)
        {
            throw new ProtocolException(ErrorCode.BadRequest, $"sdp: {ex.Message}");
        }
    }
}

/// <summary>
/// <c>publish</c>: the client's publish offer (first, or a renegotiation such as an ICE restart) gets the server's
/// answer, and <c>tracks</c>: every track the client publishes after it (the others learn them from
/// <c>track-published</c>; the publisher needs the ids to unpublish).
/// </summary>
internal sealed class PublishHandler(IOptions<MediaOptions> options, SignalingMetrics metrics) : ISessionRequestHandler
{
    public string Type => "publish";

    public async ValueTask HandleAsync(Session session, ClientRequest request)
    {
        if (!session.Peer.Rights.CanPublish) throw new ProtocolException(ErrorCode.Forbidden, "your join token does not allow publishing");
        var offer = MediaRequests.ParseSdp(request.RequireString("sdp"));
        // Every track costs a producer, buffers, and an m-line in every other peer's subscribe offer.
        var offered = offer.Media.Count(m => !m.IsRejected);
        if (offered > options.Value.MaxTracksPerPeer)
        {
            metrics.LimitHit("tracks");
            throw new ProtocolException(ErrorCode.BadRequest, $"a peer publishes at most {options.Value.MaxTracksPerPeer} tracks; this offer has {offered}");
        }
        var media = MediaRequests.MediaOf(session);
        var (answer, tracks) = await MediaRequests.NegotiateAsync(() => media.PublishAsync(session.Peer, offer)).ConfigureAwait(false);
        session.Respond(request.Id, new JsonObject { ["sdp"] = answer, ["tracks"] = new JsonArray([.. tracks.Select(t => (JsonNode)t.Describe())]) });
    }
}

internal sealed class UnpublishHandler : ISessionRequestHandler
{
    public string Type => "unpublish";

    public async ValueTask HandleAsync(Session session, ClientRequest request)
    {
        await MediaRequests.MediaOf(session).UnpublishAsync(session.Peer, request.RequireString("trackId")).ConfigureAwait(false);
        session.Respond(request.Id, null);
    }
}

/// <summary><c>subscribe-answer</c>: the client's answer to the pending <c>subscribe-offer</c> of the same version.</summary>
internal sealed class SubscribeAnswerHandler : ISessionRequestHandler
{
    public string Type => "subscribe-answer";

    public async ValueTask HandleAsync(Session session, ClientRequest request)
    {
        var sdp = request.RequireString("sdp");
        var version = request.RequireInt64("version");
        var media = MediaRequests.MediaOf(session);
        await MediaRequests.NegotiateAsync(async () =>
        {
            await media.AnswerSubscribeOfferAsync(session.Peer, sdp, version).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);
        session.Respond(request.Id, null);
    }
}

/// <summary><c>subscribe</c> and <c>unsubscribe</c>: manual control of what the peer receives.</summary>
internal sealed class SubscriptionHandler(bool subscribe) : ISessionRequestHandler
{
    public string Type => subscribe ? "subscribe" : "unsubscribe";

    public async ValueTask HandleAsync(Session session, ClientRequest request)
    {
        if (subscribe && !session.Peer.Rights.CanSubscribe) throw new ProtocolException(ErrorCode.Forbidden, "your join token does not allow subscribing");
        var trackIds = request.RequireStringArray("trackIds");
        await MediaRequests.MediaOf(session).ChangeSubscriptionsAsync(session.Peer, trackIds, subscribe, () => session.Respond(request.Id, null))
            .ConfigureAwait(false);
    }
}

/// <summary><c>restart-ice</c>: new ICE credentials for the subscribe transport, in a new <c>subscribe-offer</c>.</summary>
internal sealed class RestartIceHandler : ISessionRequestHandler
{
    public string Type => "restart-ice";

    public async ValueTask HandleAsync(Session session, ClientRequest request)
    {
        var transport = request.RequireString("transport");
        if (transport != "subscribe")
            throw new ProtocolException(ErrorCode.BadRequest, "field 'transport' must be \"subscribe\"; restart the publish transport with a new publish offer");
        await MediaRequests.MediaOf(session).RestartSubscribeIceAsync(session.Peer, () => session.Respond(request.Id, null)).ConfigureAwait(false);
    }
}

/// <summary>
/// <c>candidate</c>: trickled client candidates. The server is ICE-lite and learns client addresses from their
/// authenticated checks, so a well-formed candidate is acknowledged and otherwise not needed.
/// </summary>
internal sealed class CandidateHandler : ISessionRequestHandler
{
    public string Type => "candidate";

    public ValueTask HandleAsync(Session session, ClientRequest request)
    {
        var transport = request.RequireString("transport");
        if (transport is not ("publish" or "subscribe")) throw new ProtocolException(ErrorCode.BadRequest, "field 'transport' must be \"publish\" or \"subscribe\"");
        request.RequireObject("candidate");
        session.Respond(request.Id, null);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// <c>set-track-preferences</c> (an extension of v1): a subscriber caps the layer or picture size of one track it
/// receives, or pauses and resumes it. Each request replaces the track's previous preferences.
/// </summary>
internal sealed class TrackPreferencesHandler : ISessionRequestHandler
{
    // Larger than any picture a browser encodes; anything above is a client bug, not a wish.
    private const long MaxDimension = 16384;

    public string Type => "set-track-preferences";

    public async ValueTask HandleAsync(Session session, ClientRequest request)
    {
        var trackId = request.RequireString("trackId");
        var maxLayer = request.OptionalInt64("maxLayer");
        // The upper bound depends on the track; the room checks it.
        if (maxLayer is < 0 or > int.MaxValue) throw new ProtocolException(ErrorCode.BadRequest, "field 'maxLayer' must be 0 (the lowest layer) or more");
        var maxTemporalLayer = request.OptionalInt64("maxTemporalLayer");
        if (maxTemporalLayer is < 0 or > 3) throw new ProtocolException(ErrorCode.BadRequest, "field 'maxTemporalLayer' must be 0 to 3");
        var preferences = new LayerPreferences((int?)maxLayer, Dimension(request, "maxWidth"), Dimension(request, "maxHeight"),
            request.OptionalBool("paused") ?? false, (int?)maxTemporalLayer);
        await MediaRequests.MediaOf(session).SetTrackPreferencesAsync(session.Peer, trackId, preferences).ConfigureAwait(false);
        session.Respond(request.Id, null);
    }

    private static int? Dimension(ClientRequest request, string name) => request.OptionalInt64(name) switch
    {
        null => null,
        >= 1 and <= MaxDimension and var value => (int)value,
        _ => throw new ProtocolException(ErrorCode.BadRequest, $"field '{name}' must be a number of pixels from 1 to {MaxDimension}"),
    };
}

/// <summary>The media scenarios of <c>simulate</c>: stop sending media for a while, or forget the client's path.</summary>
internal sealed class MediaFaultInjector : IMediaFaultInjector
{
    public Task SimulateAsync(Peer peer, string scenario, TimeSpan duration) =>
        peer.Room.Media?.SimulateAsync(peer, scenario, duration) ?? Task.CompletedTask;
}
