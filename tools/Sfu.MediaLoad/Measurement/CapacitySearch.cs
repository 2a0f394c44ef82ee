namespace Sfu.MediaLoad.Measurement;

/// <summary>One step of the search: the subscriber count tried and what its window saw (null when the subscribers could not all join).</summary>
sealed record CapacityStep(int Subscribers, WindowResult? Window, string? Failure)
{
    public bool Passed => Window is { Lossless: true };
}

/// <summary>
/// The largest subscriber count the server carries without loss: doubling from a start until a step loses packets
/// (or subscribers cannot join), then bisection between the last count that passed and the first that failed, down to
/// a resolution of 1/16 of the count. Each step resizes the rooms, warms up, and measures a short window.
/// </summary>
static class CapacitySearch
{
    public static async Task<(int Largest, List<CapacityStep> Steps)> RunAsync(
        Rooms rooms, int start, int max, TimeSpan warmup, TimeSpan window, Action<string> log, CancellationToken cancel)
    {
        var steps = new List<CapacityStep>();
        int passed = 0;
        int? failed = null;
        for (int n = Math.Min(start, max); ; n = Math.Min(n * 2, max))
        {
            var step = await TryAsync(rooms, n, warmup, window, log, cancel);
            steps.Add(step);
            if (!step.Passed)
            {
                failed = n;
                break;
            }

            passed = n;
            if (n == max) break;
        }

        while (failed is { } high && high - passed > Math.Max(1, passed / 16))
        {
            int n = (passed + high) / 2;
            var step = await TryAsync(rooms, n, warmup, window, log, cancel);
            steps.Add(step);
            if (step.Passed) passed = n;
            else failed = n;
        }

        return (passed, steps);
    }

    private static async Task<CapacityStep> TryAsync(Rooms rooms, int n, TimeSpan warmup, TimeSpan window, Action<string> log, CancellationToken cancel)
    {
        CapacityStep step;
        try
        {
            await rooms.ResizeAsync(n, cancel);
            await Task.Delay(warmup, cancel);
            step = new CapacityStep(n, await LoadWindow.MeasureAsync(rooms, window, cancel), null);
        }
        catch (TimeoutException e)
        {
            step = new CapacityStep(n, null, e.Message);
        }

        log(step.Window is { } w
            ? Report.Invariant($"  N={n,-5} {(step.Passed ? "no loss" : "LOSS   ")} lost {w.LostTotal} of {w.ExpectedTotal} ({w.LossPercent:F3} %) in {w.Seconds:F1} s, publisher sent {w.PublisherVideoPackets / w.Seconds:F0} video packets/s, {w.ReceivedPerSecond:F0} packets/s received, server CPU {Report.Format(w.ServerCpuPercent, "F1")} % (JIT {Report.Format(w.ServerJitPercent, "F1")} %), tool CPU {w.ToolCpuPercent:F1} %")
            : $"  N={n,-5} failed: {step.Failure}");
        return step;
    }
}
