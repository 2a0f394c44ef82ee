using System.Diagnostics;
using System.Net;
using Sfu.Client;
using Sfu.Client.Transport;
using Sfu.MediaLoad.Servers;

namespace Sfu.MediaLoad.Measurement;

/// <summary>
/// One room on one server: a publisher whose video packets carry their send time, paced at
/// <paramref name="pacingFactor"/> times its bitrate (0: each frame back to back), and any number of subscribers, each
/// with its own signaling connection; every client socket on <paramref name="localAddress"/>.
/// </summary>
sealed class Room(IServerDriver server, string name, IPAddress localAddress, double pacingFactor) : IAsyncDisposable
{
    private static readonly TimeSpan VideoWait = TimeSpan.FromSeconds(20);
    private const int ConnectConcurrency = 8;
    private readonly List<SubscriberPeer> _subscribers = [];

    public IServerDriver Server => server;

    public PublisherPeer? Publisher { get; private set; }

    /// <summary>The subscribers now, a copy.</summary>
    public SubscriberPeer[] Subscribers
    {
        get { lock (_subscribers) return [.. _subscribers]; }
    }

    public int Count
    {
        get { lock (_subscribers) return _subscribers.Count; }
    }

    /// <summary>Subscribers that have received video so far (for progress lines).</summary>
    public int ReceivingVideo => Subscribers.Count(s => (Video(s.Subscriber)?.Packets ?? 0) > 0);

    /// <summary>Video packets every subscriber has received so far (for progress lines).</summary>
    public long VideoPacketsReceived => Subscribers.Sum(s => Video(s.Subscriber)?.Packets ?? 0);

    public ClientTransportOptions TransportOptions => new() { LocalEndPoint = new IPEndPoint(localAddress, 0) };

    /// <summary>The subscriber's video stream (the first live video section of its offer), once a packet arrived.</summary>
    public static ReceivedStreamStats? Video(Subscriber subscriber)
    {
        var mid = subscriber.Offer?.Media.FirstOrDefault(m => m.Kind == "video" && !m.IsRejected)?.Mid;
        return mid is null ? null : subscriber.FindByMid(mid);
    }

    public async Task StartPublisherAsync(bool audio, CancellationToken cancel) =>
        Publisher = await server.PublishAsync(name, new PublisherOptions { Audio = audio, StampSendTime = true, PacingFactor = pacingFactor, Transport = TransportOptions }, cancel);

    /// <summary>Adds a subscriber without waiting for its video.</summary>
    public async Task<SubscriberPeer> AddSubscriberAsync(CancellationToken cancel)
    {
        var peer = await server.SubscribeAsync(name, new SubscriberOptions { Transport = TransportOptions }, cancel);
        lock (_subscribers) _subscribers.Add(peer);
        return peer;
    }

    /// <summary>Adds <paramref name="count"/> subscribers, a few at a time, and waits until each receives video.</summary>
    public async Task AddSubscribersAsync(int count, CancellationToken cancel)
    {
        using var gate = new SemaphoreSlim(ConnectConcurrency);
        var added = await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            await gate.WaitAsync(cancel);
            try
            {
                return await AddSubscriberAsync(cancel);
            }
            finally
            {
                gate.Release();
            }
        }));
        var watch = Stopwatch.StartNew();
        while (added.Any(s => (Video(s.Subscriber)?.Packets ?? 0) == 0))
        {
            if (watch.Elapsed > VideoWait) throw new TimeoutException($"{added.Count(s => (Video(s.Subscriber)?.Packets ?? 0) == 0)} subscribers got no video");
            await Task.Delay(20, cancel);
        }
    }

    /// <summary>Adds or removes subscribers until there are <paramref name="count"/>.</summary>
    public async Task ResizeAsync(int count, CancellationToken cancel)
    {
        if (count > Count)
        {
            await AddSubscribersAsync(count - Count, cancel);
            return;
        }

        SubscriberPeer[] leaving;
        lock (_subscribers)
        {
            leaving = [.. _subscribers.Skip(count)];
            _subscribers.RemoveRange(count, _subscribers.Count - count);
        }

        await Task.WhenAll(leaving.Select(s => s.DisposeAsync().AsTask()));
    }

    /// <summary>Removes and disposes one subscriber (it leaves the room).</summary>
    public async Task RemoveAsync(SubscriberPeer peer)
    {
        lock (_subscribers) _subscribers.Remove(peer);
        await peer.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await ResizeAsync(0, CancellationToken.None);
        if (Publisher is not null) await Publisher.DisposeAsync();
    }
}
