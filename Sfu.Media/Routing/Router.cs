using Sfu.Media.DataChannels;
using Sfu.Media.Dtls;
using Sfu.Media.Pipes;
using Sfu.Media.Worker;

namespace Sfu.Media.Routing;

/// <summary>
/// One room's media, in the manner of mediasoup's router: it owns every peer's publish and subscribe transport
/// (<see cref="PublisherMedia"/>, <see cref="SubscriberMedia"/>) and through them every producer and consumer, and is
/// the media plane's one record of which track ids exist. Created by <see cref="MediaWorker.CreateRouter"/> and lives
/// only on that worker: every member is called on the worker thread (signaling reaches it through
/// <see cref="MediaWorker.InvokeAsync{T}"/>). What signaling must hear comes back through each peer's
/// <see cref="IMediaPeerListener"/>. Disposing it closes everything it owns.
/// A room whose subscribers do not fit one worker has a router on each worker it spans: the producers live on the
/// room's home router, and the others hold mirrors of them (<see cref="PublishPiped"/>, see <see cref="RouterPipes"/>).
/// </summary>
public sealed class Router : IDisposable
{
    private readonly ITransportHost _host;
    private readonly DtlsContext _dtls;
    private readonly Action<Router> _closed;
    private readonly Dictionary<string, PublisherMedia> _publishers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SubscriberMedia> _subscribers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Producer> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PipedProducer> _piped = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PipedDataProducer> _pipedData = new(StringComparer.Ordinal);
    private bool _disposed;

    internal Router(string id, MediaWorker worker, ITransportHost host, DtlsContext dtls, Action<Router> closed)
    {
        Id = id;
        Worker = worker;
        _host = host;
        _dtls = dtls;
        _closed = closed;
    }

    public string Id { get; }

    /// <summary>The worker this router lives on; reach it through <see cref="MediaWorker.InvokeAsync{T}"/>.</summary>
    public MediaWorker Worker { get; }

    /// <summary>The peer's publish transport, created on first use.</summary>
    public PublisherMedia Publisher(string peerId, IMediaPeerListener listener)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_publishers.TryGetValue(peerId, out var publisher))
        {
            publisher = new PublisherMedia(_host, _dtls, $"{peerId}/publish", listener);
            _publishers[peerId] = publisher;
        }
        return publisher;
    }

    /// <summary>The peer's subscribe transport, created on first use.</summary>
    public SubscriberMedia Subscriber(string peerId, IMediaPeerListener listener)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_subscribers.TryGetValue(peerId, out var subscriber))
        {
            subscriber = new SubscriberMedia(_host, _dtls, $"{peerId}/subscribe", listener);
            _subscribers[peerId] = subscriber;
        }
        return subscriber;
    }

    public PublisherMedia? FindPublisher(string peerId) => _publishers.GetValueOrDefault(peerId);

    /// <summary>Whether any peer has a transport here.</summary>
    public bool HasPeers => _publishers.Count > 0 || _subscribers.Count > 0;

    /// <summary>Disposed: the room closed, or (a mirror) its last subscriber left. Read it after a command on the worker returned.</summary>
    public bool IsClosed => _disposed;

    public SubscriberMedia? FindSubscriber(string peerId) => _subscribers.GetValueOrDefault(peerId);

    /// <summary>Starts receiving one track of <paramref name="publisher"/> as <paramref name="trackId"/>.</summary>
    public Producer Publish(PublisherMedia publisher, string trackId, Sdp.PublishedTrack track)
    {
        if (_producers.ContainsKey(trackId)) throw new InvalidOperationException($"track '{trackId}' is published already");
        var producer = publisher.AddProducer(trackId, track);
        _producers[trackId] = producer;
        return producer;
    }

    /// <summary>
    /// Mirrors a track published on another worker's router: this router's subscribers consume it like a local one,
    /// fed through <paramref name="pipe"/>; <paramref name="requestKeyframe"/> asks the real producer for a layer's keyframe.
    /// <paramref name="ssrcs"/> are the layers' SSRCs as the home router knows them now (null where not learned yet), so
    /// that a consumer here can ask for a keyframe before the first packet arrives.
    /// </summary>
    internal Producer PublishPiped(string trackId, Sdp.PublishedTrack track, IReadOnlyList<uint?> ssrcs, WorkerPipe pipe, Action<int> requestKeyframe)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_producers.ContainsKey(trackId)) throw new InvalidOperationException($"track '{trackId}' is published already");
        var piped = new PipedProducer(trackId, track, pipe, requestKeyframe, _host);
        for (var i = 0; i < ssrcs.Count && i < piped.Producer.Layers.Count; i++) piped.Producer.Layers[i].Ssrc = ssrcs[i];
        _producers[trackId] = piped.Producer;
        _piped[trackId] = piped;
        _host.AddPipeReceiver(piped);
        return piped.Producer;
    }

    /// <summary>Mirrors a data track opened on another worker's router, fed through <paramref name="pipe"/>.</summary>
    internal DataProducer PublishPipedData(string trackId, DataChannelParameters parameters, WorkerPipe pipe)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var piped = new PipedDataProducer(trackId, parameters, pipe, _host.Metrics.DataChannels);
        if (!_pipedData.TryAdd(trackId, piped)) throw new InvalidOperationException($"data track '{trackId}' is piped already");
        _host.AddPipeReceiver(piped);
        return piped.Producer;
    }

    /// <summary>Stops a track: its producer closes, and with it every consumer of it. False for an unknown id.</summary>
    public bool Unpublish(string trackId)
    {
        if (_pipedData.Remove(trackId, out var pipedData))
        {
            _host.RemovePipeReceiver(pipedData);
            pipedData.Dispose();
            return true;
        }
        if (!_producers.Remove(trackId, out var producer)) return false;
        if (_piped.Remove(trackId, out var piped))
        {
            _host.RemovePipeReceiver(piped);
            piped.Dispose();
            return true;
        }
        foreach (var publisher in _publishers.Values)
        {
            if (publisher.RemoveProducer(producer)) break;
        }
        return true;
    }

    public Producer? Find(string trackId) => _producers.GetValueOrDefault(trackId);

    /// <summary>The tracks and data tracks published on this router, not mirrored: what its room's other routers mirror.</summary>
    internal (List<string> Tracks, List<string> DataTracks) PublishedHere() =>
        ([.. _producers.Keys.Where(id => !_piped.ContainsKey(id))], [.. _publishers.Values.SelectMany(p => p.DataProducers).Select(p => p.Id)]);

    /// <summary>A data track (a channel a publisher opened) by its id; null when it is not open.</summary>
    public DataProducer? FindData(string trackId)
    {
        if (_pipedData.TryGetValue(trackId, out var piped)) return piped.Producer;
        foreach (var publisher in _publishers.Values)
        {
            if (publisher.FindDataProducer(trackId) is { } producer) return producer;
        }
        return null;
    }

    /// <summary>
    /// Makes the subscriber's consumers what its answer accepted: one per track (a consumer whose parameters or producer
    /// changed is replaced), tracks no longer accepted stop. Tracks whose producer is gone meanwhile are skipped.
    /// </summary>
    public void UpdateConsumers(SubscriberMedia subscriber, IEnumerable<(string TrackId, ConsumerParameters Parameters)> accepted)
    {
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (trackId, parameters) in accepted)
        {
            if (Find(trackId) is not { } producer) continue;
            wanted.Add(trackId);
            subscriber.Consume(producer, parameters);
        }
        subscriber.StopConsumingExcept(wanted);
    }

    /// <summary>The peer left: its transports close, its producers (and everyone's consumers of them) with them.</summary>
    public void ClosePeer(string peerId)
    {
        if (_publishers.Remove(peerId, out var publisher))
        {
            foreach (var producer in publisher.Producers) _producers.Remove(producer.Id);
            publisher.Dispose();
        }
        if (_subscribers.Remove(peerId, out var subscriber)) subscriber.Dispose();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var peerId in _publishers.Keys.Concat(_subscribers.Keys).ToArray()) ClosePeer(peerId);
        foreach (var trackId in _piped.Keys.Concat(_pipedData.Keys).ToArray()) Unpublish(trackId);
        _closed(this);
    }
}
