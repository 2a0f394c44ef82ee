using System.Diagnostics;
using System.Net.WebSockets;
using Sfu.Client;
using Sfu.Client.Signaling;

namespace Sfu.Soak;

/// <summary>
/// One cycle of churn: in each room a media publisher and subscriber (Sfu.Client, real ICE, DTLS and SRTP) and
/// signaling-only peers join; then, until the cycle's time is up, one action at a time at random: a ping, a socket
/// dropped and resumed, a peer leaving and a new one joining, the subscriber's UDP port changing; then everyone leaves.
/// </summary>
internal sealed class ChurnCycle(SoakOptions options, string runId, int cycle, Random random) : IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    // Cheap media: the soak is about state that outlives peers, not about throughput.
    private static readonly PublisherOptions PublisherSettings = new() { VideoBitrate = 300_000, FrameRate = 15 };

    private readonly List<(string Room, SignalingClient Signaling)> _signalingPeers = [];
    private readonly List<SignalingClient> _mediaSignaling = [];
    private readonly List<Publisher> _publishers = [];
    private readonly List<Subscriber> _subscribers = [];

    // Peers that left mid-cycle, disposed with the rest: disposing waits for a ping in flight on the dropped socket.
    private readonly List<SignalingClient> _departed = [];
    private int _joined;

    public CycleActivity Activity { get; } = new();

    public async Task StartAsync(CancellationToken cancel)
    {
        for (var r = 0; r < options.Rooms; r++)
        {
            var room = $"soak-{runId}-c{cycle}-r{r}";
            if (options.Media) await StartMediaAsync(room, cancel);
            for (var p = 0; p < options.SignalingPeersPerRoom; p++) await JoinSignalingPeerAsync(room, cancel);
        }
    }

    /// <summary>Random actions, one at a time, for the cycle's active time.</summary>
    public async Task ChurnAsync(CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < options.ActivePerCycle)
        {
            await Task.Delay(random.Next(100, 400), cancel);
            var roll = random.NextDouble();
            if (roll < 0.35) await Attempt("ping", () => AnyClient().PingAsync());
            else if (roll < 0.65) await Attempt("resume", () => AnyClient().ResumeAsync(cancel));
            else if (roll < 0.85) await Attempt("replace", () => ReplaceSignalingPeerAsync(cancel));
            else if (_subscribers.Count > 0) await Attempt("rebind", () => _subscribers[random.Next(_subscribers.Count)].Transport.RebindAsync());
        }

        foreach (var subscriber in _subscribers)
        {
            var video = Video(subscriber);
            Activity.VideoPackets.Add(video?.Packets ?? 0);
            // Still flowing at the end, after every drop and rebind: a packet within the last second.
            if (video is null || Stopwatch.GetElapsedTime(video.LastAt) > TimeSpan.FromSeconds(1)) Activity.StalledSubscribers++;
        }
    }

    /// <summary>Everyone leaves (explicitly, so the server frees their state now rather than at the offline timeout).</summary>
    public async Task LeaveAllAsync()
    {
        var everyone = _signalingPeers.Select(p => p.Signaling).Concat(_mediaSignaling).ToList();
        await Task.WhenAll(everyone.Select(s => Attempt("leave", s.LeaveAsync)));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var subscriber in _subscribers) subscriber.Dispose();
        foreach (var publisher in _publishers) publisher.Dispose();
        await Task.WhenAll(_signalingPeers.Select(p => p.Signaling).Concat(_mediaSignaling).Concat(_departed).Select(s => s.DisposeAsync().AsTask()));
    }

    private async Task StartMediaAsync(string room, CancellationToken cancel)
    {
        var publisherSignaling = await SignalingClient.ConnectAsync(options.WebSocketUri, cancellation: cancel);
        _mediaSignaling.Add(publisherSignaling);
        await publisherSignaling.JoinAsync(room, "publisher", autoSubscribe: false).WaitAsync(Wait, cancel);
        var publisher = new Publisher(PublisherSettings);
        _publishers.Add(publisher);
        await publisher.PublishAsync(publisherSignaling).WaitAsync(Wait, cancel);
        await publisher.Transport.WaitConnectedAsync(Wait).WaitAsync(cancel);

        var subscriberSignaling = await SignalingClient.ConnectAsync(options.WebSocketUri, cancellation: cancel);
        _mediaSignaling.Add(subscriberSignaling);
        var subscriber = new Subscriber(subscriberSignaling);
        _subscribers.Add(subscriber);
        await subscriberSignaling.JoinAsync(room, "subscriber").WaitAsync(Wait, cancel);
        await subscriber.WaitForOffersAnsweredAsync(1, Wait).WaitAsync(cancel);
        await subscriber.Transport.WaitConnectedAsync(Wait).WaitAsync(cancel);
    }

    private async Task JoinSignalingPeerAsync(string room, CancellationToken cancel)
    {
        var signaling = await SignalingClient.ConnectAsync(options.WebSocketUri, cancellation: cancel);
        _signalingPeers.Add((room, signaling));
        await signaling.JoinAsync(room, $"peer-{Interlocked.Increment(ref _joined)}", autoSubscribe: false).WaitAsync(Wait, cancel);
        Activity.Joins++;
    }

    private async Task ReplaceSignalingPeerAsync(CancellationToken cancel)
    {
        if (_signalingPeers.Count == 0) return;
        var index = random.Next(_signalingPeers.Count);
        var (room, leaving) = _signalingPeers[index];
        _signalingPeers.RemoveAt(index);
        _departed.Add(leaving);
        await leaving.LeaveAsync();
        Activity.Leaves++;
        await JoinSignalingPeerAsync(room, cancel);
    }

    private SignalingClient AnyClient()
    {
        var index = random.Next(_signalingPeers.Count + _mediaSignaling.Count);
        return index < _signalingPeers.Count ? _signalingPeers[index].Signaling : _mediaSignaling[index - _signalingPeers.Count];
    }

    private async Task Attempt(string action, Func<Task> run)
    {
        try
        {
            await run();
            Activity.Count(action);
        }
        catch (Exception e) when (e is SignalingException or TimeoutException or WebSocketException or InvalidOperationException or IOException)
        {
            Activity.Fail(action, e.Message);
        }
    }

    private static ReceivedStreamStats? Video(Subscriber subscriber)
    {
        var mid = subscriber.Offer?.Media.FirstOrDefault(m => m.Kind == "video" && !m.IsRejected)?.Mid;
        return mid is null ? null : subscriber.FindByMid(mid);
    }
}

/// <summary>What one cycle did, and what went wrong (every failure is a finding: the server should refuse nothing here).</summary>
internal sealed class CycleActivity
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _done = [];

    public int Joins { get; set; }

    public int Leaves { get; set; }

    /// <summary>Video packets each media subscriber received in the cycle.</summary>
    public List<long> VideoPackets { get; } = [];

    /// <summary>Media subscribers that received nothing in the cycle's last second.</summary>
    public int StalledSubscribers { get; set; }

    public List<string> Failures { get; } = [];

    public void Count(string action)
    {
        lock (_gate) _done[action] = _done.GetValueOrDefault(action) + 1;
    }

    public void Fail(string action, string message)
    {
        lock (_gate) Failures.Add($"{action}: {message}");
    }

    public string Summary()
    {
        lock (_gate) return string.Join(", ", _done.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Value} {p.Key}"));
    }
}
