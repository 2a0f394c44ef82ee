using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Globalization;
using System.Text.Json;
using Sfu.Client;
using Sfu.Client.Signaling;
using Sfu.MediaLoad.Measurement;

namespace Sfu.MediaLoad.Servers;

/// <summary>This project's server, over its own signaling (sfu.v1 on /ws); started elsewhere, reached at its URL.</summary>
sealed partial class SfuDriver(Uri url, int? processId) : IServerDriver
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly HttpClient _http = new() { BaseAddress = url, Timeout = TimeSpan.FromSeconds(5) };
    private int _joined;

    public string Name => "sfu";

    public int? ProcessId { get; } = processId;

    public Uri WebSocketUri { get; } = new UriBuilder(url) { Scheme = url.Scheme == "https" ? "wss" : "ws", Path = "/ws" }.Uri;

    public HttpClient Http => _http;

    public async Task<PublisherPeer> PublishAsync(string room, PublisherOptions options, CancellationToken cancel)
    {
        var signaling = await SignalingClient.ConnectAsync(WebSocketUri, cancellation: cancel);
        var publisher = new Publisher(options);
        var peer = new PublisherPeer(publisher, new Membership(signaling));
        try
        {
            await signaling.JoinAsync(room, "publisher", autoSubscribe: false).WaitAsync(Wait, cancel);
            await publisher.PublishAsync(signaling).WaitAsync(Wait, cancel);
            await publisher.Transport.WaitConnectedAsync(Wait).WaitAsync(cancel);
            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    public async Task<SubscriberPeer> SubscribeAsync(string room, SubscriberOptions options, CancellationToken cancel)
    {
        var openedAt = Stopwatch.GetTimestamp();
        var signaling = await SignalingClient.ConnectAsync(WebSocketUri, cancellation: cancel);
        var subscriber = new Subscriber(signaling, options);
        var peer = new SubscriberPeer(subscriber, new Membership(signaling), openedAt);
        try
        {
            var joined = await signaling.JoinAsync(room, $"subscriber-{Interlocked.Increment(ref _joined)}").WaitAsync(Wait, cancel);
            // The server offers what is published when the subscriber joins; with nothing published no offer comes,
            // which the wait below would only report as a timeout (a starved tool lets its publisher time out).
            if (!AnyTrackIn(joined))
                throw new MeasurementBrokenException($"room '{room}' has no published track (its publisher left or timed out): no subscribe offer will come");
            await subscriber.WaitForOffersAnsweredAsync(1, Wait).WaitAsync(cancel);
            await subscriber.Transport.WaitConnectedAsync(Wait).WaitAsync(cancel);
            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    public async Task<ServerCounters?> CountersAsync(CancellationToken cancel)
    {
        var text = await _http.GetStringAsync("/metrics", cancel);
        return new ServerCounters(ReadMetric(text, "sfu_media_rtp_forwarded_total"), ReadMetric(text, "sfu_media_worker_allocated_bytes_total"),
            ReadMetric(text, "dotnet_jit_compilation_time_seconds_total"), ReadHistogram(text, "sfu_media_residence_seconds"));
    }

    /// <summary>The sum and count of the server's recovery-time histogram (seconds).</summary>
    public async Task<(double Sum, double Count)> RecoveryAsync(CancellationToken cancel)
    {
        var text = await _http.GetStringAsync("/metrics", cancel);
        return (ReadMetric(text, "sfu_media_recovery_time_seconds_sum"), ReadMetric(text, "sfu_media_recovery_time_seconds_count"));
    }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    private static bool AnyTrackIn(JsonElement joinResponse) =>
        joinResponse.GetProperty("room").GetProperty("peers").EnumerateArray().Any(p => p.GetProperty("tracks").GetArrayLength() > 0);

    private static double ReadMetric(string text, string series) =>
        SeriesLine().Matches(text).FirstOrDefault(m => m.Groups[1].Value == series) is { } match
            ? double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture)
            : 0;

    /// <summary>The buckets of an unlabelled histogram, in the order of their bounds; null when the server has none.</summary>
    private static ScrapedHistogram? ReadHistogram(string text, string name)
    {
        var prefix = name + "_bucket{le=\"";
        var buckets = SeriesLine().Matches(text)
            .Where(m => m.Groups[1].Value.StartsWith(prefix, StringComparison.Ordinal))
            .Select(m => (Bound: ParseBound(m.Groups[1].Value[prefix.Length..^2]), Count: double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)))
            .OrderBy(b => b.Bound)
            .ToArray();
        return buckets.Length == 0 ? null : new ScrapedHistogram([.. buckets.Select(b => b.Bound)], [.. buckets.Select(b => b.Count)]);
    }

    private static double ParseBound(string le) => le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^([a-z_]+(?:\{[^}]*\})?) ([0-9.eE+-]+)$", RegexOptions.Multiline)]
    private static partial Regex SeriesLine();

    /// <summary>A signaling connection that leaves the room (so the server drops the peer at once) before closing.</summary>
    private sealed class Membership(SignalingClient signaling) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await signaling.LeaveAsync().WaitAsync(TimeSpan.FromSeconds(5));
            }
            finally
            {
                await signaling.DisposeAsync();
            }
        }
    }
}
