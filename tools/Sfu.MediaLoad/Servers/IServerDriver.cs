using Sfu.Client;

namespace Sfu.MediaLoad.Servers;

/// <summary>
/// One SFU as the load code sees it: how a publisher and a subscriber get into a room on it, and which process does
/// its work. The media (ICE, DTLS, SRTP, the synthetic VP8 and Opus, loss and latency accounting) is the same
/// Sfu.Client code for every server; only the signaling differs.
/// </summary>
interface IServerDriver : IAsyncDisposable
{
    /// <summary>A short name for tables: "sfu", "janus".</summary>
    string Name { get; }

    /// <summary>The process whose CPU time is the server's, when known.</summary>
    int? ProcessId { get; }

    /// <summary>Publishes into <paramref name="room"/> (creating it if the server needs that) and returns once the transport is connected.</summary>
    Task<PublisherPeer> PublishAsync(string room, PublisherOptions options, CancellationToken cancel);

    /// <summary>Subscribes to <paramref name="room"/>'s publisher and returns once the subscriber's transport is connected.</summary>
    Task<SubscriberPeer> SubscribeAsync(string room, SubscriberOptions options, CancellationToken cancel);

    /// <summary>The server's own counters, for a server that has them (null otherwise).</summary>
    Task<ServerCounters?> CountersAsync(CancellationToken cancel);
}

/// <summary>
/// What the server says it forwarded, what its media worker allocated, how long its JIT compiled, and how long datagrams
/// stayed in it (<c>sfu_media_residence_seconds</c>, null when it has none), so far.
/// </summary>
sealed record ServerCounters(double Forwarded, double WorkerAllocatedBytes, double JitSeconds, Measurement.ScrapedHistogram? Residence);

/// <summary>A publisher and the signaling that keeps it in its room; disposing leaves the room.</summary>
sealed class PublisherPeer(Publisher publisher, IAsyncDisposable signaling) : IAsyncDisposable
{
    public Publisher Publisher { get; } = publisher;

    public async ValueTask DisposeAsync()
    {
        await Leave.QuietlyAsync(signaling);
        Publisher.Dispose();
    }
}

/// <summary>A subscriber, the signaling that keeps it subscribed, and when its WebSocket began to open (a Stopwatch timestamp).</summary>
sealed class SubscriberPeer(Subscriber subscriber, IAsyncDisposable signaling, long openedAt) : IAsyncDisposable
{
    public Subscriber Subscriber { get; } = subscriber;

    public long OpenedAt { get; } = openedAt;

    public async ValueTask DisposeAsync()
    {
        await Leave.QuietlyAsync(signaling);
        Subscriber.Dispose();
    }
}

static class Leave
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Leaves, bounded and without throwing: peers that just vanish stay in the room (and get media) until the
    /// server's timeout, which would load it during the next measurement, but a server that does not answer must not
    /// hold the tool.
    /// </summary>
    public static async Task QuietlyAsync(IAsyncDisposable signaling)
    {
        try
        {
            await signaling.DisposeAsync().AsTask().WaitAsync(Limit);
        }
        catch (Exception e) when (e is TimeoutException or IOException or InvalidOperationException
            or System.Net.WebSockets.WebSocketException or OperationCanceledException or Sfu.Client.Signaling.SignalingException)
        {
        }
    }
}

/// <summary>The run cannot measure anything more (its publisher is gone, say); the message says why.</summary>
sealed class MeasurementBrokenException(string message) : Exception(message);
