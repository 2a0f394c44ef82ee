using Microsoft.Extensions.Logging;
using Sfu.Media.Pipes;
using Sfu.Media.Routing;
using Sfu.Media.Sdp;
using Sfu.Signaling.Protocol;
using Sfu.Signaling.Rooms;

namespace Sfu.Signaling.MediaSessions;

/// <summary>
/// Publishing and subscribing in one room, as signaling sees them: turns publish offers into tracks, keeps every
/// subscriber's offer/answer cycle going as tracks come and go, and cleans up after peers that leave. The media itself
/// lives in the room's routers (<see cref="RoomRouters"/>): publish transports and producers on the home router, each
/// subscribe transport on the router its worker placement chose, reached only through commands run on that router's
/// worker; which tracks exist is the room's record (<see cref="Room.FindPublisher"/>). Room-wide changes are
/// serialised by one async gate (<see cref="ExclusiveAsync{T}"/>), which also guards the routers' bookkeeping.
/// </summary>
public sealed partial class RoomMedia
{
    private readonly Room _room;
    private readonly MediaService _media;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly RoomRouters _routers;
    // Data track events, chained in the order the worker reported them, so a close never overtakes its open.
    // Only the worker thread extends the chain.
    private Task _dataTrackEvents = Task.CompletedTask;
    private readonly ILogger _logger;

    internal RoomMedia(Room room, MediaService media)
    {
        _room = room;
        _media = media;
        _routers = new RoomRouters(room.Id, media.Workers, media.DtlsContext);
        _logger = media.LoggerFactory.CreateLogger<RoomMedia>();
    }

    /// <summary>Runs <paramref name="read"/> against the room's home router on its worker (diagnostics and tests).</summary>
    internal Task<T> InspectAsync<T>(Func<Router, T> read) => ExclusiveAsync(async () =>
    {
        var home = await _routers.HomeAsync().ConfigureAwait(false);
        return await home.Worker.InvokeAsync(() => read(home)).ConfigureAwait(false);
    });

    /// <summary>Runs <paramref name="read"/> against every router of the room, home first, each on its worker (diagnostics and tests).</summary>
    internal Task<List<T>> InspectAllAsync<T>(Func<Router, T> read) => ExclusiveAsync(async () =>
    {
        var results = new List<T>();
        foreach (var router in _routers.All.ToList()) results.Add(await router.Worker.InvokeAsync(() => read(router)).ConfigureAwait(false));
        return results;
    });

    /// <summary>
    /// Answers a publish offer (first publish or renegotiation) and announces new and removed tracks. Returns the
    /// answer and every track the peer publishes after it, so the client learns the ids of its own tracks.
    /// </summary>
    public Task<(string Sdp, IReadOnlyList<TrackInfo> Tracks)> PublishAsync(Peer peer, SessionDescription offer) => ExclusiveAsync(async () =>
    {
        var state = MediaOf(peer);
        var remote = RemoteTransportParameters.FromBundle(offer);
        var home = await _routers.HomeAsync().ConfigureAwait(false);
        var outcome = await home.Worker.InvokeAsync(() =>
        {
            var publisher = home.Publisher(peer.Id, state);
            var transport = publisher.Transport;
            if (state.PublishRemoteUfrag is not null && state.PublishRemoteUfrag != remote.IceUfrag) transport.RestartIce();
            state.PublishRemoteUfrag = remote.IceUfrag;
            transport.SetRemoteFingerprint(remote.Fingerprint);
            var answer = _media.PublishAnswers.Build(offer, MediaService.LocalParameters(transport, home.Worker), state.PublishOrigin);
            state.PublishOrigin = answer.Answer.Origin;
            if (answer.DataChannels is { } sctp) transport.EnableDataChannels(sctp, publisher);

            var added = new List<TrackInfo>();
            foreach (var track in answer.Tracks)
            {
                if (publisher.Producers.Any(p => p.Track.Mid == track.Mid)) continue;
                added.Add(TrackInfoOf(home.Publish(publisher, $"{peer.Id}:{track.Mid}", track)));
            }
            var removed = new List<string>();
            foreach (var producer in publisher.Producers.ToArray())
            {
                if (answer.Tracks.Any(t => t.Mid == producer.Track.Mid)) continue;
                home.Unpublish(producer.Id);
                removed.Add(producer.Id);
            }
            return (answer.Sdp, added, removed, published: publisher.Producers.Select(TrackInfoOf).ToList());
        }).ConfigureAwait(false);

        await _routers.TracksRemovedAsync(outcome.removed).ConfigureAwait(false);
        await _routers.TracksPublishedAsync(outcome.added.Select(t => t.TrackId)).ConfigureAwait(false);
        _room.UpdateTracks(peer, outcome.added, outcome.removed);
        await UpdateSubscribersAsync(peer, outcome.added.Select(t => t.TrackId), outcome.removed).ConfigureAwait(false);
        return (outcome.Sdp, (IReadOnlyList<TrackInfo>)outcome.published);
    });

    /// <summary>Stops one of the peer's own tracks.</summary>
    public Task UnpublishAsync(Peer peer, string trackId) => ExclusiveAsync(async () =>
    {
        if (_room.FindPublisher(trackId) != peer) throw new ProtocolException(ErrorCode.NotFound, $"you publish no track '{trackId}'");
        var home = await _routers.HomeAsync().ConfigureAwait(false);
        await home.Worker.InvokeAsync(() => home.Unpublish(trackId)).ConfigureAwait(false);
        await _routers.TracksRemovedAsync([trackId]).ConfigureAwait(false);
        _room.UpdateTracks(peer, [], [trackId]);
        await UpdateSubscribersAsync(peer, [], [trackId]).ConfigureAwait(false);
    });

    /// <summary>
    /// Manual subscription control (<c>subscribe</c> / <c>unsubscribe</c>). <paramref name="accepted"/> runs once the
    /// request is known to succeed and before the new offer goes out, so the client gets its response first.
    /// </summary>
    public Task ChangeSubscriptionsAsync(Peer peer, IReadOnlyList<string> trackIds, bool subscribe, Action accepted) => ExclusiveAsync(async () =>
    {
        var state = MediaOf(peer);
        foreach (var trackId in trackIds)
        {
            if (_room.FindPublisher(trackId) is not { } owner || owner == peer)
                throw new ProtocolException(ErrorCode.NotFound, $"no track '{trackId}' to {(subscribe ? "subscribe to" : "unsubscribe from")}");
        }
        var changed = false;
        foreach (var trackId in trackIds) changed |= subscribe ? state.Subscriptions.Add(trackId) : state.Subscriptions.Remove(trackId);
        accepted();
        if (changed) await RenegotiateAsync(state).ConfigureAwait(false);
    });

    /// <summary>Applies a subscriber's answer to the pending <c>subscribe-offer</c>: consumers start or stop accordingly.</summary>
    public Task AnswerSubscribeOfferAsync(Peer peer, string sdp, long version) => ExclusiveAsync(async () =>
    {
        var state = MediaOf(peer);
        if (state.PendingOffer is not { } pending || (long)pending.Version != version)
            throw new ProtocolException(ErrorCode.BadRequest, $"no subscribe-offer with version {version} is waiting for an answer");
        var answer = SubscribeAnswerReader.Read(pending.Offer, sdp);
        var accepted = new List<(string, ConsumerParameters)>();
        foreach (var assignment in pending.Assignments)
        {
            if (answer.Find(assignment.Mid) is not { Accepted: true } track) continue;
            accepted.Add((assignment.TrackId, new ConsumerParameters(assignment.Mid, assignment.Ssrc, assignment.RtxSsrc,
                track.PayloadType ?? assignment.PayloadType, track.RtxPayloadType, track.Extensions)));
        }
        var router = await SubscribeRouterAsync(state).ConfigureAwait(false);
        await router.Worker.InvokeAsync(() =>
        {
            var subscriber = router.Subscriber(peer.Id, state);
            if (answer.Remote is { } remote) subscriber.Transport.SetRemoteFingerprint(remote.Fingerprint);
            if (answer.DataChannels is { } sctp) subscriber.Transport.EnableDataChannels(sctp, subscriber);
            subscriber.UpdateDataConsumers(DataSubscriptionsOf(router, state));
            router.UpdateConsumers(subscriber, accepted);
        }).ConfigureAwait(false);
        state.OfferState = pending.State;
        state.PendingOffer = null;
        if (state.NeedsOffer) await RenegotiateAsync(state).ConfigureAwait(false);
    });

    /// <summary>On <paramref name="router"/>'s worker: the open data tracks among the peer's subscriptions.</summary>
    private static List<DataProducer> DataSubscriptionsOf(Router router, PeerMedia state) =>
        [.. state.Subscriptions.Select(router.FindData).OfType<DataProducer>()];

    /// <summary>
    /// The router the peer's subscribe transport lives on, placed when first needed (<see cref="RoomRouters.ForSubscriberAsync"/>).
    /// With the gate held.
    /// </summary>
    private async Task<Router> SubscribeRouterAsync(PeerMedia state) =>
        state.SubscribeRouter is { IsClosed: false } router ? router : state.SubscribeRouter = await _routers.ForSubscriberAsync().ConfigureAwait(false);

    /// <summary>A peer opened a data channel on its publish transport: a data track, published like any other.</summary>
    internal void OnDataTrackOpened(Peer peer, DataProducer producer) => RunDataTrackEvent(() => ExclusiveAsync(async () =>
    {
        if (peer.HasLeft || peer.Media is null) return;
        await _routers.DataTrackOpenedAsync(producer.Id).ConfigureAwait(false);
        _room.UpdateTracks(peer, [TrackInfo.ForData(producer.Id, producer.Parameters)], []);
        await UpdateSubscribersAsync(peer, [producer.Id], []).ConfigureAwait(false);
    }));

    /// <summary>The publisher closed its data channel: the track goes from the room and from every subscription.</summary>
    internal void OnDataTrackClosed(Peer peer, DataProducer producer) => RunDataTrackEvent(() => ExclusiveAsync(async () =>
    {
        if (_room.FindPublisher(producer.Id) != peer) return;
        await _routers.TracksRemovedAsync([producer.Id]).ConfigureAwait(false);
        _room.UpdateTracks(peer, [], [producer.Id]);
        await UpdateSubscribersAsync(peer, [], [producer.Id]).ConfigureAwait(false);
    }));

    /// <summary><c>set-track-preferences</c>: caps, pauses or resumes one track the peer receives.</summary>
    public Task SetTrackPreferencesAsync(Peer peer, string trackId, LayerPreferences preferences) => ExclusiveAsync(async () =>
    {
        var state = MediaOf(peer);
        var notReceived = new ProtocolException(ErrorCode.NotFound, $"you receive no track '{trackId}'");
        if (!state.Subscriptions.Contains(trackId)) throw notReceived;
        var router = await SubscribeRouterAsync(state).ConfigureAwait(false);
        await router.Worker.InvokeAsync(() =>
        {
            if (router.Find(trackId) is not { } producer) throw notReceived;
            if (preferences.MaxLayer >= producer.SelectableLayerCount)
                throw new ProtocolException(ErrorCode.BadRequest, !producer.IsSvc
                    ? $"field 'maxLayer' must be below {producer.SelectableLayerCount}: track '{trackId}' has {producer.SelectableLayerCount} layer(s)"
                    : $"field 'maxLayer' must be below {producer.SelectableLayerCount}: track '{trackId}' is VP9 SVC, whose spatial layers are numbered 0 to {producer.SelectableLayerCount - 1}");
            router.Subscriber(peer.Id, state).SetPreferences(trackId, preferences);
        }).ConfigureAwait(false);
    });

    /// <summary><c>restart-ice</c> for the subscribe transport: fresh credentials, sent in a new offer after <paramref name="accepted"/>.</summary>
    public Task RestartSubscribeIceAsync(Peer peer, Action accepted) => ExclusiveAsync(async () =>
    {
        var state = MediaOf(peer);
        var noTransport = new ProtocolException(ErrorCode.NotFound, "there is no subscribe transport to restart yet");
        if (state.SubscribeRouter is not { } router) throw noTransport;
        await router.Worker.InvokeAsync(() =>
        {
            if (router.FindSubscriber(peer.Id) is not { } subscriber) throw noTransport;
            subscriber.RestartIce();
        }).ConfigureAwait(false);
        accepted();
        await RenegotiateAsync(state, force: true).ConfigureAwait(false);
    });

    /// <summary>Fault injection for tests: act on the peer's transports on the worker.</summary>
    internal Task SimulateAsync(Peer peer, string scenario, TimeSpan duration) => ExclusiveAsync(async () =>
    {
        var state = MediaOf(peer);
        var home = await _routers.HomeAsync().ConfigureAwait(false);
        await home.Worker.InvokeAsync(() => Simulate(home.FindPublisher(peer.Id)?.Transport)).ConfigureAwait(false);
        if (state.SubscribeRouter is { } router) await router.Worker.InvokeAsync(() => Simulate(router.FindSubscriber(peer.Id)?.Transport)).ConfigureAwait(false);

        void Simulate(Sfu.Media.Transports.WebRtcTransport? transport)
        {
            if (transport is null) return;
            if (scenario == "pause-media") transport.PauseSending(duration);
            else transport.ForgetPaths();
        }
    });

    /// <summary>A peer joined: with auto-subscribe it receives every track already published.</summary>
    internal void OnPeerJoined(Peer peer) => RunInBackground(() => ExclusiveAsync(async () =>
    {
        if (!peer.AutoSubscribe || !peer.Rights.CanSubscribe) return;
        var published = _room.TracksExcept(peer);
        if (published.Count == 0 || MediaOfMember(peer) is not { } state) return;
        foreach (var track in published) state.Subscriptions.Add(track.TrackId);
        await RenegotiateAsync(state).ConfigureAwait(false);
    }));

    /// <summary>A peer left: its transports close, its tracks disappear from everyone's subscriptions.</summary>
    internal void OnPeerRemoved(Peer peer) => RunInBackground(() => ExclusiveAsync(async () =>
    {
        if (peer.Media is null) return;
        var removed = _room.TracksOf(peer).Select(t => t.TrackId).ToList();
        if (_routers.Home is { } home) await home.Worker.InvokeAsync(() => home.ClosePeer(peer.Id)).ConfigureAwait(false);
        if (peer.Media.SubscribeRouter is { IsClosed: false } router && router != _routers.Home)
        {
            await router.Worker.InvokeAsync(() => router.ClosePeer(peer.Id)).ConfigureAwait(false);
            await _routers.PeerLeftAsync(router).ConfigureAwait(false);
        }
        await _routers.TracksRemovedAsync(removed).ConfigureAwait(false);
        peer.Media = null;
        await UpdateSubscribersAsync(peer, [], removed).ConfigureAwait(false);
    }));

    /// <summary>The room closed: its routers go, with whatever they still own.</summary>
    internal void Close() => RunInBackground(() => ExclusiveAsync(_routers.CloseAsync));

    private async Task UpdateSubscribersAsync(Peer publisher, IEnumerable<string> added, IReadOnlyList<string> removed)
    {
        var addedIds = added.ToList();
        foreach (var peer in _room.Peers)
        {
            if (peer == publisher) continue;
            var autoAdds = peer.AutoSubscribe && peer.Rights.CanSubscribe && addedIds.Count > 0;
            if (!autoAdds && (peer.Media is null || !removed.Any(peer.Media.Subscriptions.Contains))) continue;
            if (MediaOfMember(peer) is not { } state) continue;
            var changed = false;
            if (autoAdds) foreach (var trackId in addedIds) changed |= state.Subscriptions.Add(trackId);
            foreach (var trackId in removed) changed |= state.Subscriptions.Remove(trackId);
            if (changed) await RenegotiateAsync(state).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends the subscriber a new offer for what it should receive now, unless one is still unanswered (then
    /// the next offer follows its answer). Mids and SSRCs stay stable across offers.
    /// </summary>
    private async Task RenegotiateAsync(PeerMedia state, bool force = false)
    {
        if (state.PendingOffer is not null)
        {
            state.NeedsOffer = true;
            return;
        }
        var publishers = state.Subscriptions.ToDictionary(id => id, id => _room.FindPublisher(id)?.Id ?? "unknown", StringComparer.Ordinal);
        var router = await SubscribeRouterAsync(state).ConfigureAwait(false);
        var offer = await router.Worker.InvokeAsync<SubscribeOffer?>(() =>
        {
            var tracks = state.Subscriptions.Select(router.Find).OfType<Producer>().Select(p => Describe(state, p, publishers[p.Id])).ToList();
            var receivesData = DataSubscriptionsOf(router, state).Count > 0;
            if (tracks.Count == 0 && !receivesData && state.OfferState.Slots.Count == 0 && state.OfferState.Data is null && !force) return null;
            var subscriber = router.Subscriber(state.Peer.Id, state);
            return _media.SubscribeOffers.Build(tracks, MediaService.LocalParameters(subscriber.Transport, router.Worker), state.OfferState, receivesData);
        }).ConfigureAwait(false);
        if (offer is null) return;
        state.PendingOffer = offer;
        state.NeedsOffer = false;
        state.Peer.Outbox.Emit("subscribe-offer", new System.Text.Json.Nodes.JsonObject { ["sdp"] = offer.Sdp, ["version"] = (long)offer.Version });
    }

    private static SubscribedTrack Describe(PeerMedia subscriber, Producer producer, string publisherId)
    {
        if (!subscriber.SsrcsByTrack.TryGetValue(producer.Id, out var ssrcs))
        {
            ssrcs = (RandomSsrc(), RandomSsrc());
            subscriber.SsrcsByTrack[producer.Id] = ssrcs;
        }
        return new SubscribedTrack(producer.Id, producer.Kind, producer.Track.Codec, ssrcs.Ssrc,
            producer.Track.Codec.RtxPayloadType is null ? null : ssrcs.RtxSsrc, publisherId, publisherId, producer.Id);
    }

    /// <summary>A producer as the protocol names it to clients (<c>Track</c>).</summary>
    private static TrackInfo TrackInfoOf(Producer producer) =>
        new(producer.Id, producer.Kind.ToSdp(), producer.Track.Mid, producer.Track.Rids);

    private static uint RandomSsrc() => (uint)Random.Shared.NextInt64(1, uint.MaxValue);

    /// <summary>
    /// The peer's media state, created on first use. Called with the gate held; a peer that has left gets none, so a
    /// request that raced its departure cannot leave transports behind that <see cref="OnPeerRemoved"/> already swept.
    /// </summary>
    private PeerMedia MediaOf(Peer peer) =>
        MediaOfMember(peer) ?? throw new ProtocolException(ErrorCode.NotJoined, "this peer has left the room; join again");

    /// <summary>As <see cref="MediaOf"/>, for room-wide updates: null for a peer that has left meanwhile.</summary>
    private PeerMedia? MediaOfMember(Peer peer) => peer.HasLeft ? null : peer.Media ??= new PeerMedia(peer, _logger);

    /// <summary>Runs <paramref name="work"/> holding the room's media gate: one room-wide change at a time.</summary>
    private async Task<T> ExclusiveAsync<T>(Func<Task<T>> work)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            return await work().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private Task ExclusiveAsync(Func<Task> work) => ExclusiveAsync(async () =>
    {
        await work().ConfigureAwait(false);
        return true;
    });

    private void RunInBackground(Func<Task> work) => _ = Task.Run(() => LoggingFailures(work));

    private void RunDataTrackEvent(Func<Task> work) =>
        _dataTrackEvents = _dataTrackEvents.ContinueWith(_ => LoggingFailures(work), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();

    private async Task LoggingFailures(Func<Task> work)
    {
        try { await work().ConfigureAwait(false); }
        catch (Exception ex) { Log.BackgroundFailed(_logger, ex, _room.Id); }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 600, Level = LogLevel.Error, Message = "Media update in room {RoomId} failed")]
        public static partial void BackgroundFailed(ILogger logger, Exception exception, string roomId);
    }
}
