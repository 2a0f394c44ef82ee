using Microsoft.Extensions.Logging;
using Sfu.Media.Routing;
using Sfu.Media.Sdp;
using Sfu.Signaling.Protocol;
using Sfu.Signaling.Rooms;

namespace Sfu.Signaling.MediaSessions;

/// <summary>
/// Publishing and subscribing in one room: turns publish offers into producers, keeps every subscriber's
/// offer/answer cycle going as tracks come and go, and cleans up after peers that leave. Room-wide changes are
/// serialised by one async gate; packet-path objects are created and changed on the media worker.
/// </summary>
public sealed partial class RoomMedia
{
    private readonly Room _room;
    private readonly MediaService _media;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Router _router = new();
    private readonly Dictionary<string, Peer> _publisherOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DataProducer> _dataTracks = new(StringComparer.Ordinal);
    // Data track events, chained in the order the worker reported them, so a close never overtakes its open.
    // Only the worker thread extends the chain.
    private Task _dataTrackEvents = Task.CompletedTask;
    private readonly ILogger _logger;

    internal RoomMedia(Room room, MediaService media)
    {
        _room = room;
        _media = media;
        _logger = media.LoggerFactory.CreateLogger<RoomMedia>();
    }

    private Sfu.Media.Worker.MediaWorker Worker => _media.Worker;

    /// <summary>
    /// Answers a publish offer (first publish or renegotiation) and announces new and removed tracks. Returns the
    /// answer and every track the peer publishes after it, so the client learns the ids of its own tracks.
    /// </summary>
    public async Task<(string Sdp, IReadOnlyList<TrackInfo> Tracks)> PublishAsync(Peer peer, SessionDescription offer)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var state = MediaOf(peer);
            var remote = RemoteTransportParameters.FromBundle(offer);
            var outcome = await Worker.InvokeAsync(() =>
            {
                state.Publisher ??= new PublisherMedia(Worker, _media.DtlsContext, $"{peer.Id}/publish", state);
                var transport = state.Publisher.Transport;
                if (state.PublishRemoteUfrag is not null && state.PublishRemoteUfrag != remote.IceUfrag) transport.RestartIce();
                state.PublishRemoteUfrag = remote.IceUfrag;
                transport.SetRemoteFingerprint(remote.Fingerprint);
                var answer = _media.PublishAnswers.Build(offer, _media.LocalParameters(transport), state.PublishOrigin);
                state.PublishOrigin = answer.Answer.Origin;
                if (answer.DataChannels is { } sctp) transport.EnableDataChannels(sctp, state.Publisher);

                var added = new List<TrackInfo>();
                foreach (var track in answer.Tracks)
                {
                    if (state.Publisher.Producers.Any(p => p.Track.Mid == track.Mid)) continue;
                    var producer = state.Publisher.AddProducer($"{peer.Id}:{track.Mid}", track);
                    _router.Add(producer);
                    added.Add(TrackInfoOf(producer));
                }
                var removed = new List<string>();
                foreach (var producer in state.Publisher.Producers.ToArray())
                {
                    if (answer.Tracks.Any(t => t.Mid == producer.Track.Mid)) continue;
                    _router.Remove(producer);
                    state.Publisher.RemoveProducer(producer);
                    removed.Add(producer.Id);
                }
                return (answer.Sdp, added, removed, published: state.Publisher.Producers.Select(TrackInfoOf).ToList());
            }).ConfigureAwait(false);

            foreach (var track in outcome.added) _publisherOf[track.TrackId] = peer;
            foreach (var trackId in outcome.removed) _publisherOf.Remove(trackId);
            _room.UpdateTracks(peer, outcome.added, outcome.removed);
            await UpdateSubscribersAsync(peer, outcome.added.Select(t => t.TrackId), outcome.removed).ConfigureAwait(false);
            return (outcome.Sdp, outcome.published);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops one of the peer's own tracks.</summary>
    public async Task UnpublishAsync(Peer peer, string trackId)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_publisherOf.TryGetValue(trackId, out var owner) || owner != peer)
                throw new ProtocolException(ErrorCode.NotFound, $"you publish no track '{trackId}'");
            var publisher = MediaOf(peer).Publisher!;
            await Worker.InvokeAsync(() =>
            {
                if (_router.Find(trackId) is not { } producer) return;
                _router.Remove(producer);
                publisher.RemoveProducer(producer);
            }).ConfigureAwait(false);
            _publisherOf.Remove(trackId);
            _room.UpdateTracks(peer, [], [trackId]);
            await UpdateSubscribersAsync(peer, [], [trackId]).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Manual subscription control (<c>subscribe</c> / <c>unsubscribe</c>). <paramref name="accepted"/> runs once the
    /// request is known to succeed and before the new offer goes out, so the client gets its response first.
    /// </summary>
    public async Task ChangeSubscriptionsAsync(Peer peer, IReadOnlyList<string> trackIds, bool subscribe, Action accepted)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var state = MediaOf(peer);
            foreach (var trackId in trackIds)
            {
                if (!_publisherOf.TryGetValue(trackId, out var owner) || owner == peer)
                    throw new ProtocolException(ErrorCode.NotFound, $"no track '{trackId}' to {(subscribe ? "subscribe to" : "unsubscribe from")}");
            }
            var changed = false;
            foreach (var trackId in trackIds) changed |= subscribe ? state.Subscriptions.Add(trackId) : state.Subscriptions.Remove(trackId);
            accepted();
            if (changed) await RenegotiateAsync(state).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Applies a subscriber's answer to the pending <c>subscribe-offer</c>: consumers start or stop accordingly.</summary>
    public async Task AnswerSubscribeOfferAsync(Peer peer, string sdp, long version)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var state = MediaOf(peer);
            if (state.PendingOffer is not { } pending || (long)pending.Version != version)
                throw new ProtocolException(ErrorCode.BadRequest, $"no subscribe-offer with version {version} is waiting for an answer");
            var answer = SubscribeAnswerReader.Read(pending.Offer, sdp);
            var subscriber = state.Subscriber!;
            var wantedData = DataSubscriptionsOf(state);
            await Worker.InvokeAsync(() =>
            {
                if (answer.Remote is { } remote) subscriber.Transport.SetRemoteFingerprint(remote.Fingerprint);
                if (answer.DataChannels is { } sctp) subscriber.Transport.EnableDataChannels(sctp, subscriber);
                UpdateDataConsumers(state, subscriber, subscriber.Transport.DataChannels is null ? [] : wantedData);
                var wanted = new HashSet<string>(StringComparer.Ordinal);
                foreach (var assignment in pending.Assignments)
                {
                    var accepted = answer.Find(assignment.Mid);
                    if (accepted is not { Accepted: true } || _router.Find(assignment.TrackId) is not { } producer) continue;
                    wanted.Add(assignment.TrackId);
                    var parameters = new ConsumerParameters(assignment.Mid, assignment.Ssrc, assignment.RtxSsrc,
                        accepted.PayloadType ?? assignment.PayloadType, accepted.RtxPayloadType, accepted.Extensions);
                    if (state.ConsumersByTrack.TryGetValue(assignment.TrackId, out var existing))
                    {
                        if (existing.Parameters == parameters && ReferenceEquals(existing.Producer, producer)) continue;
                        existing.Dispose();
                    }
                    var created = subscriber.Consume(producer, parameters);
                    if (state.PreferencesByTrack.TryGetValue(assignment.TrackId, out var preferences)) subscriber.SetPreferences(created, preferences);
                    state.ConsumersByTrack[assignment.TrackId] = created;
                }
                foreach (var (trackId, consumer) in state.ConsumersByTrack.ToArray())
                {
                    if (wanted.Contains(trackId)) continue;
                    consumer.Dispose();
                    state.ConsumersByTrack.Remove(trackId);
                    state.PreferencesByTrack.Remove(trackId);
                }
            }).ConfigureAwait(false);
            state.OfferState = pending.State;
            state.PendingOffer = null;
            if (state.NeedsOffer) await RenegotiateAsync(state).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// On the worker: one data consumer per data track the subscriber wants, once its transport carries SCTP; the
    /// others go (their channels close by stream reset).
    /// </summary>
    private static void UpdateDataConsumers(PeerMedia state, SubscriberMedia subscriber, IReadOnlyList<DataProducer> wanted)
    {
        foreach (var producer in wanted)
        {
            if (state.DataConsumersByTrack.TryGetValue(producer.Id, out var existing) && ReferenceEquals(existing.Producer, producer)) continue;
            existing?.Dispose();
            state.DataConsumersByTrack[producer.Id] = subscriber.ConsumeData(producer);
        }
        foreach (var (trackId, consumer) in state.DataConsumersByTrack.ToArray())
        {
            if (wanted.Any(p => p.Id == trackId)) continue;
            consumer.Dispose();
            state.DataConsumersByTrack.Remove(trackId);
        }
    }

    private List<DataProducer> DataSubscriptionsOf(PeerMedia state) =>
        [.. state.Subscriptions.Select(id => _dataTracks.GetValueOrDefault(id)).OfType<DataProducer>()];

    /// <summary>A peer opened a data channel on its publish transport: a data track, published like any other.</summary>
    internal void OnDataTrackOpened(Peer peer, DataProducer producer) => RunDataTrackEvent(async () =>
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (peer.HasLeft || peer.Media is null) return;
            _dataTracks[producer.Id] = producer;
            _publisherOf[producer.Id] = peer;
            _room.UpdateTracks(peer, [TrackInfo.ForData(producer.Id, producer.Parameters)], []);
            await UpdateSubscribersAsync(peer, [producer.Id], []).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    });

    /// <summary>The publisher closed its data channel: the track goes from the room and from every subscription.</summary>
    internal void OnDataTrackClosed(Peer peer, DataProducer producer) => RunDataTrackEvent(async () =>
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_dataTracks.TryGetValue(producer.Id, out var current) || !ReferenceEquals(current, producer)) return;
            _dataTracks.Remove(producer.Id);
            _publisherOf.Remove(producer.Id);
            _room.UpdateTracks(peer, [], [producer.Id]);
            await UpdateSubscribersAsync(peer, [], [producer.Id]).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    });

    /// <summary><c>set-track-preferences</c>: caps, pauses or resumes one track the peer receives.</summary>
    public async Task SetTrackPreferencesAsync(Peer peer, string trackId, LayerPreferences preferences)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var state = MediaOf(peer);
            if (!state.Subscriptions.Contains(trackId) || _router.Find(trackId) is not { } producer)
                throw new ProtocolException(ErrorCode.NotFound, $"you receive no track '{trackId}'");
            if (preferences.MaxLayer >= producer.Layers.Count)
                throw new ProtocolException(ErrorCode.BadRequest, $"field 'maxLayer' must be below {producer.Layers.Count}: track '{trackId}' has {producer.Layers.Count} layer(s)");
            state.PreferencesByTrack[trackId] = preferences;
            await Worker.InvokeAsync(() =>
            {
                if (state.Subscriber is { } subscriber && state.ConsumersByTrack.TryGetValue(trackId, out var consumer))
                    subscriber.SetPreferences(consumer, preferences);
            }).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary><c>restart-ice</c> for the subscribe transport: fresh credentials, sent in a new offer after <paramref name="accepted"/>.</summary>
    public async Task RestartSubscribeIceAsync(Peer peer, Action accepted)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var state = MediaOf(peer);
            if (state.Subscriber is not { } subscriber)
                throw new ProtocolException(ErrorCode.NotFound, "there is no subscribe transport to restart yet");
            await Worker.InvokeAsync(() => subscriber.RestartIce()).ConfigureAwait(false);
            accepted();
            await RenegotiateAsync(state, force: true).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Fault injection for tests: act on the peer's transports on the worker.</summary>
    internal async Task SimulateAsync(Peer peer, string scenario, TimeSpan duration)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var state = MediaOf(peer);
            await Worker.InvokeAsync(() =>
            {
                foreach (var transport in new[] { state.Publisher?.Transport, state.Subscriber?.Transport })
                {
                    if (transport is null) continue;
                    if (scenario == "pause-media") transport.PauseSending(duration);
                    else transport.ForgetPaths();
                }
            }).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A peer joined: with auto-subscribe it receives every track already published.</summary>
    internal void OnPeerJoined(Peer peer) => RunInBackground(async () =>
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!peer.AutoSubscribe || !peer.Rights.CanSubscribe || _publisherOf.Count == 0) return;
            if (MediaOfMember(peer) is not { } state) return;
            foreach (var trackId in _publisherOf.Keys) state.Subscriptions.Add(trackId);
            await RenegotiateAsync(state).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    });

    /// <summary>A peer left: its transports close, its tracks disappear from everyone's subscriptions.</summary>
    internal void OnPeerRemoved(Peer peer) => RunInBackground(async () =>
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (peer.Media is not { } state) return;
            var removed = _publisherOf.Where(p => p.Value == peer).Select(p => p.Key).ToList();
            foreach (var trackId in removed)
            {
                _publisherOf.Remove(trackId);
                _dataTracks.Remove(trackId);
            }
            await Worker.InvokeAsync(() =>
            {
                if (state.Publisher is { } publisher)
                {
                    foreach (var producer in publisher.Producers) _router.Remove(producer);
                    publisher.Dispose();
                }
                state.Subscriber?.Dispose();
            }).ConfigureAwait(false);
            peer.Media = null;
            await UpdateSubscribersAsync(peer, [], removed).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    });

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
        var producers = state.Subscriptions.Select(id => _router.Find(id)).OfType<Producer>().ToList();
        var receivesData = DataSubscriptionsOf(state).Count > 0;
        if (producers.Count == 0 && !receivesData && state.OfferState.Slots.Count == 0 && state.OfferState.Data is null && !force) return;
        var tracks = producers.Select(p => Describe(state, p)).ToList();
        var offer = await Worker.InvokeAsync(() =>
        {
            state.Subscriber ??= new SubscriberMedia(Worker, _media.DtlsContext, $"{state.Peer.Id}/subscribe", state);
            return _media.SubscribeOffers.Build(tracks, _media.LocalParameters(state.Subscriber.Transport), state.OfferState, receivesData);
        }).ConfigureAwait(false);
        state.PendingOffer = offer;
        state.NeedsOffer = false;
        state.Peer.Outbox.Emit("subscribe-offer", new System.Text.Json.Nodes.JsonObject { ["sdp"] = offer.Sdp, ["version"] = (long)offer.Version });
    }

    private SubscribedTrack Describe(PeerMedia subscriber, Producer producer)
    {
        if (!subscriber.SsrcsByTrack.TryGetValue(producer.Id, out var ssrcs))
        {
            ssrcs = (RandomSsrc(), RandomSsrc());
            subscriber.SsrcsByTrack[producer.Id] = ssrcs;
        }
        var publisherId = _publisherOf.TryGetValue(producer.Id, out var publisher) ? publisher.Id : "unknown";
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
