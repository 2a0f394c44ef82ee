using System.Diagnostics;
using Sfu.Client;
using Sfu.MediaLoad.Servers;

namespace Sfu.MediaLoad.Measurement;

/// <summary>
/// 1 publisher, 1 subscriber on our server; R times the subscriber's UDP port changes (ClientTransport.RebindAsync):
/// server recovery time from /metrics and time until the first keyframe on the new port. Then R times the old
/// workaround: a fresh signaling connection and subscriber (new transport, new DTLS) until its first keyframe.
/// </summary>
static class Recovery
{
    private static readonly TimeSpan KeyframeWait = TimeSpan.FromSeconds(5);

    // Keyframe requests to one publisher stream are throttled (KeyframeRequestIntervalMs, a second while one is
    // unanswered): pause longer than that between repetitions, so each one's request goes out at once as it would
    // for a lone rebind.
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(1200);

    public static async Task<object> RunAsync(Rooms rooms, SfuDriver server, int reps, bool audio, CancellationToken cancel)
    {
        // With audio too, the next packet after a switch comes sooner (every 20 ms instead of every 33 ms frame).
        await rooms.StartPublishersAsync(audio, cancel);
        await rooms.AddSubscribersAsync(1, cancel);
        await Task.Delay(Pause, cancel);

        var recovered = new List<double>();
        var keyframe = new List<double>();
        long lostInRebinds = 0;
        for (var rep = 0; rep < reps; rep++)
        {
            var (sum, count) = await server.RecoveryAsync(cancel);
            var subscriber = rooms.Subscribers[0].Subscriber;
            var lostBefore = Rooms.Video(subscriber)!.Lost;
            var start = Stopwatch.GetTimestamp();
            await subscriber.Transport.RebindAsync();
            keyframe.Add(await UntilKeyframeAfterAsync(subscriber, start, cancel));
            var recorded = await UntilAsync(async () => await server.RecoveryAsync(cancel) is var now && now.Count > count ? now : ((double, double)?)null, cancel);
            recovered.Add((recorded.Item1 - sum) / (recorded.Item2 - count) * 1000);
            // Plus up to one frame interval at random: a fixed pause would rebind at the same phase of the
            // publisher's 30 fps clock each time and measure one wait for the next packet over and over.
            await Task.Delay(Pause + TimeSpan.FromMilliseconds(Random.Shared.Next(34)), cancel);
            lostInRebinds += Rooms.Video(subscriber)!.Lost - lostBefore;
            Console.WriteLine(Report.Invariant($"rebind {rep + 1}/{reps}: server {recovered[^1]:F3} ms, first keyframe {keyframe[^1]:F1} ms"));
        }

        var workaround = new List<double>();
        for (var rep = 0; rep < reps; rep++)
        {
            // The old subscriber goes away first (leave, so the server drops its transport), untimed: a client
            // whose network changed would not get to do that. Timing starts as the fresh one connects.
            await rooms.ResizeAsync(0, cancel);
            var start = Stopwatch.GetTimestamp();
            await rooms.AddSubscribersAsync(1, cancel);
            workaround.Add(await UntilKeyframeAfterAsync(rooms.Subscribers[0].Subscriber, start, cancel));
            Console.WriteLine(Report.Invariant($"re-subscribe {rep + 1}/{reps}: first keyframe {workaround[^1]:F1} ms"));
            await Task.Delay(Pause + TimeSpan.FromMilliseconds(Random.Shared.Next(34)), cancel);
        }

        Console.WriteLine(Report.Invariant($"rebinds: {reps} ({(audio ? "video and audio" : "video only")}), video packets lost across all: {lostInRebinds}"));
        Console.WriteLine(Report.Invariant($"(a) server: verified check from new address -> first media sent there: median {Report.Percentile(recovered, 0.5):F3} ms, p95 {Report.Percentile(recovered, 0.95):F3} ms, max {recovered.Max():F3} ms"));
        Console.WriteLine(Report.Invariant($"(b) subscriber: rebind -> first keyframe on the new port:              median {Report.Percentile(keyframe, 0.5):F1} ms, p95 {Report.Percentile(keyframe, 0.95):F1} ms, max {keyframe.Max():F1} ms"));
        Console.WriteLine(Report.Invariant($"workaround: fresh signaling + subscriber (new DTLS) -> first keyframe:  median {Report.Percentile(workaround, 0.5):F1} ms, p95 {Report.Percentile(workaround, 0.95):F1} ms, max {workaround.Max():F1} ms"));
        return new
        {
            mode = "recovery", reps, audio, videoPacketsLostInRebinds = lostInRebinds,
            serverRecoveryMs = Report.SummaryJson(recovered), firstKeyframeAfterRebindMs = Report.SummaryJson(keyframe),
            firstKeyframeAfterResubscribeMs = Report.SummaryJson(workaround),
        };
    }

    /// <summary>Milliseconds from <paramref name="start"/> to the first keyframe the subscriber received after it.</summary>
    private static async Task<double> UntilKeyframeAfterAsync(Subscriber subscriber, long start, CancellationToken cancel)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(KeyframeWait);
        var at = await UntilAsync(() => Task.FromResult(Rooms.Video(subscriber) is { } v && v.LastKeyframeAt > start ? v.LastKeyframeAt : (long?)null), limit.Token);
        return (at - start) * 1000.0 / Stopwatch.Frequency;
    }

    private static async Task<T> UntilAsync<T>(Func<Task<T?>> probe, CancellationToken cancel) where T : struct
    {
        while (true)
        {
            if (await probe() is { } value) return value;
            await Task.Delay(1, cancel);
        }
    }
}
