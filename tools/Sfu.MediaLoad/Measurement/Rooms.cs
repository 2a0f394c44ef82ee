using System.Diagnostics;
using System.Net;
using Sfu.Client;
using Sfu.Client.Transport;
using Sfu.MediaLoad.Servers;

namespace Sfu.MediaLoad.Measurement;

/// <summary>
/// The rooms of one measurement on one server: <paramref name="roomCount"/> rooms alike (one unless --rooms), each with a
/// publisher whose video packets carry their send time, paced at <paramref name="pacingFactor"/> times its bitrate
/// (0: each frame back to back), and subscribers spread evenly over them, each with its own signaling connection;
/// every client socket on <paramref name="localAddress"/>. One room is the hardest fan-out (a packet's copies leave
/// one after another); many small rooms are the common shape of a conferencing server's load.
/// </summary>
sealed class Rooms(IServerDriver server, string name, int roomCount, IPAddress localAddress, double pacingFactor) : IAsyncDisposable
{
    private static readonly TimeSpan VideoWait = TimeSpan.FromSeconds(20);
    private const int ConnectConcurrency = 8;
    // Every subscriber with the room it joined (an index into _publishers), in joining order; the lock guards both fields.
    private readonly List<(SubscriberPeer Peer, int Room)> _members = [];
    private readonly int[] _joining = new int[roomCount];
    private readonly List<PublisherPeer> _publishers = [];

    public IServerDriver Server => server;

    /// <summary>The publishers, one per room, once started.</summary>
    public IReadOnlyList<PublisherPeer> Publishers => _publishers;

    /// <summary>Video packets every publisher has sent so far.</summary>
    public long PublisherVideoPacketsSent => _publishers.Sum(p => p.Publisher.VideoPacketsSent);

    /// <summary>The subscribers now, a copy.</summary>
    public SubscriberPeer[] Subscribers
    {
        get { lock (_members) return [.. _members.Select(m => m.Peer)]; }
    }

    public int Count
    {
        get { lock (_members) return _members.Count; }
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

    public async Task StartPublishersAsync(bool audio, CancellationToken cancel)
    {
        for (var i = 0; i < roomCount; i++)
        {
            var options = new PublisherOptions { Audio = audio, StampSendTime = true, PacingFactor = pacingFactor, Transport = TransportOptions };
            _publishers.Add(await server.PublishAsync(RoomName(i), options, cancel));
        }
    }

    /// <summary>Adds a subscriber to the room with the fewest (joined or joining), without waiting for its video.</summary>
    public async Task<SubscriberPeer> AddSubscriberAsync(CancellationToken cancel)
    {
        int room;
        lock (_members)
        {
            room = Enumerable.Range(0, roomCount).MinBy(i => _joining[i] + _members.Count(m => m.Room == i));
            _joining[room]++;
        }
        try
        {
            var peer = await server.SubscribeAsync(RoomName(room), new SubscriberOptions { Transport = TransportOptions }, cancel);
            lock (_members) _members.Add((peer, room));
            return peer;
        }
        finally
        {
            lock (_members) _joining[room]--;
        }
    }

    private string RoomName(int index) => roomCount == 1 ? name : $"{name}-{index}";

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
        lock (_members)
        {
            leaving = [.. _members.Skip(count).Select(m => m.Peer)];
            _members.RemoveRange(count, _members.Count - count);
        }

        await Task.WhenAll(leaving.Select(s => s.DisposeAsync().AsTask()));
    }

    /// <summary>Removes and disposes one subscriber (it leaves the room).</summary>
    public async Task RemoveAsync(SubscriberPeer peer)
    {
        lock (_members) _members.RemoveAll(m => m.Peer == peer);
        await peer.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await ResizeAsync(0, CancellationToken.None);
        foreach (var publisher in _publishers) await publisher.DisposeAsync();
    }
}
