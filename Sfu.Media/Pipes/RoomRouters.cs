using Sfu.Media.Dtls;
using Sfu.Media.Routing;
using Sfu.Media.Worker;

namespace Sfu.Media.Pipes;

/// <summary>
/// One room's routers over the workers it spans, as the control plane drives them. The room lives on a home worker,
/// chosen least-loaded when its first router is needed; every publish transport and producer lives there. When a new
/// subscriber would overload the home worker, it goes to another worker's router, which mirrors every track of the
/// home router through a <see cref="WorkerPipe"/> each (mediasoup's pipe-to-router, inside one process), so that one
/// room's subscribers spread over all cores. Not thread-safe: its owner calls one method at a time (signaling's room
/// gate); each step runs on the router's worker through <see cref="MediaWorker.InvokeAsync{T}"/>.
/// </summary>
public sealed class RoomRouters(string roomId, MediaWorkerPool pool, DtlsContext dtls)
{
    private readonly Dictionary<MediaWorker, Router> _routers = [];
    private bool _closed;

    /// <summary>The home router, once created.</summary>
    public Router? Home { get; private set; }

    /// <summary>Every router of the room, home first.</summary>
    public IEnumerable<Router> All => _routers.Values;

    private IEnumerable<Router> Mirrors => _routers.Values.Where(r => r != Home);

    /// <summary>The home router, created on the least-loaded worker on first use.</summary>
    public async Task<Router> HomeAsync()
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        if (Home is null)
        {
            Home = await CreateAsync(pool.ForNewRoom()).ConfigureAwait(false);
        }
        return Home;
    }

    /// <summary>
    /// The router a new subscriber's transport goes on (<see cref="MediaWorkerPool.ForSubscriber"/>); a router on a
    /// worker the room did not span yet mirrors every track published so far before it is returned.
    /// </summary>
    public async Task<Router> ForSubscriberAsync()
    {
        var home = await HomeAsync().ConfigureAwait(false);
        var worker = pool.ForSubscriber(home.Worker);
        if (_routers.TryGetValue(worker, out var existing)) return existing;
        var mirror = await CreateAsync(worker).ConfigureAwait(false);
        var (tracks, dataTracks) = await home.Worker.InvokeAsync(home.PublishedHere).ConfigureAwait(false);
        foreach (var trackId in tracks) await PipeTrackAsync(home, mirror, trackId).ConfigureAwait(false);
        foreach (var trackId in dataTracks) await PipeDataTrackAsync(home, mirror, trackId).ConfigureAwait(false);
        return mirror;
    }

    /// <summary>Tracks just published on the home router: every other router of the room mirrors them.</summary>
    public async Task TracksPublishedAsync(IEnumerable<string> trackIds)
    {
        if (Home is not { } home) return;
        foreach (var trackId in trackIds)
        {
            foreach (var mirror in Mirrors.ToList()) await PipeTrackAsync(home, mirror, trackId).ConfigureAwait(false);
        }
    }

    /// <summary>A data track just opened on the home router: every other router of the room mirrors it.</summary>
    public async Task DataTrackOpenedAsync(string trackId)
    {
        if (Home is not { } home) return;
        foreach (var mirror in Mirrors.ToList()) await PipeDataTrackAsync(home, mirror, trackId).ConfigureAwait(false);
    }

    /// <summary>Tracks (or data tracks) gone from the home router: their mirrors close, with their consumers.</summary>
    public async Task TracksRemovedAsync(IReadOnlyCollection<string> trackIds)
    {
        if (trackIds.Count == 0) return;
        foreach (var mirror in Mirrors.ToList())
        {
            await mirror.Worker.InvokeAsync(() =>
            {
                foreach (var trackId in trackIds) mirror.Unpublish(trackId);
            }).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A peer's transports left <paramref name="router"/>: a mirror router with nobody left on it closes, so that the
    /// home worker stops copying every packet into its pipes. The next subscriber placed there opens a new one.
    /// </summary>
    public async Task PeerLeftAsync(Router router)
    {
        if (router == Home || !_routers.TryGetValue(router.Worker, out var current) || current != router) return;
        var closed = await router.Worker.InvokeAsync(() =>
        {
            if (router.HasPeers) return false;
            router.Dispose();
            return true;
        }).ConfigureAwait(false);
        if (closed) _routers.Remove(router.Worker);
    }

    /// <summary>The room closed: every router goes, with whatever it still owns.</summary>
    public async Task CloseAsync()
    {
        _closed = true;
        // Mirrors first, so that no pipe outlives the router it reads for.
        foreach (var router in Mirrors.Append(Home).OfType<Router>().ToList()) await router.Worker.InvokeAsync(router.Dispose).ConfigureAwait(false);
        _routers.Clear();
        Home = null;
    }

    private async Task<Router> CreateAsync(MediaWorker worker)
    {
        var router = await worker.InvokeAsync(() => worker.CreateRouter(roomId, dtls)).ConfigureAwait(false);
        _routers[worker] = router;
        return router;
    }

    private static async Task PipeTrackAsync(Router home, Router mirror, string trackId)
    {
        var found = await home.Worker.InvokeAsync(() => home.Find(trackId) is { } producer ? (producer.Track, Ssrcs: producer.Layers.Select(l => l.Ssrc).ToArray()) : default).ConfigureAwait(false);
        if (found.Track is not { } track) return;
        var homeWorker = home.Worker;
        var pipe = new WorkerPipe(mirror.Worker.Wake);
        // Rare (a subscriber switching layers or joining), so a closure per request is fine.
        void RequestKeyframe(int layer) => homeWorker.Post(() => home.Find(trackId)?.RequestKeyframe(layer));
        // Already mirrored: the router was created after the track's publish and before its announcement reached here.
        if (!await mirror.Worker.InvokeAsync(() => mirror.Find(trackId) is null && mirror.PublishPiped(trackId, track, found.Ssrcs, pipe, RequestKeyframe) is not null).ConfigureAwait(false)) return;
        var attached = await home.Worker.InvokeAsync(() =>
        {
            // Unpublished (or republished under the same id) since it was read: the mirror would never be fed.
            if (home.Find(trackId) is not { } producer || !ReferenceEquals(producer.Track, track)) return false;
            producer.PipeTo(pipe);
            return true;
        }).ConfigureAwait(false);
        if (!attached) await mirror.Worker.InvokeAsync(() => mirror.Unpublish(trackId)).ConfigureAwait(false);
    }

    private static async Task PipeDataTrackAsync(Router home, Router mirror, string trackId)
    {
        var parameters = await home.Worker.InvokeAsync(() => home.FindData(trackId)?.Parameters).ConfigureAwait(false);
        if (parameters is null) return;
        var pipe = new WorkerPipe(mirror.Worker.Wake);
        if (!await mirror.Worker.InvokeAsync(() => mirror.FindData(trackId) is null && mirror.PublishPipedData(trackId, parameters, pipe) is not null).ConfigureAwait(false)) return;
        var attached = await home.Worker.InvokeAsync(() =>
        {
            if (home.FindData(trackId) is not { } producer) return false;
            producer.PipeTo(pipe);
            return true;
        }).ConfigureAwait(false);
        if (!attached) await mirror.Worker.InvokeAsync(() => mirror.Unpublish(trackId)).ConfigureAwait(false);
    }
}
