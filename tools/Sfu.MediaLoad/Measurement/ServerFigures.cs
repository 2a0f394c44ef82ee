using Sfu.MediaLoad.Servers;

namespace Sfu.MediaLoad.Measurement;

/// <summary>Everything the comparison measures on one server: the lossless capacity search, one window at the common load, and the joins.</summary>
/// <remarks>A part that fails (subscribers that cannot all join in time on a saturated machine) is left empty, with the reason in <see cref="Failures"/>; the rest still runs.</remarks>
sealed record ServerFigures(string Server, int? Largest, List<CapacityStep> Steps, WindowResult? Load, List<double> JoinMs, List<string> Failures)
{
    /// <summary>Runs the whole set on a fresh room of <paramref name="room"/>'s server.</summary>
    public static async Task<ServerFigures> MeasureAsync(Rooms rooms, Settings settings, Action<string> log, CancellationToken cancel)
    {
        await rooms.StartPublishersAsync(settings.Audio, cancel);
        int? largest = null;
        var steps = new List<CapacityStep>();
        if (settings.FindLargest)
        {
            log($"{rooms.Server.Name}: largest N without loss, from {settings.Start} up to {settings.Max}");
            (largest, steps) = await CapacitySearch.RunAsync(rooms, settings.Start, settings.Max, settings.StepWarmup, settings.StepWindow, log, cancel);
            log($"{rooms.Server.Name}: largest N without loss {largest}");
        }

        var failures = new List<string>();
        log($"{rooms.Server.Name}: {settings.Subscribers} subscribers, {settings.Warmup.TotalSeconds:F0} s warm-up, {settings.Window.TotalSeconds:F0} s measured");
        WindowResult? load = null;
        try
        {
            await rooms.ResizeAsync(settings.Subscribers, cancel);
            await Task.Delay(settings.Warmup, cancel);
            load = await LoadWindow.MeasureAsync(rooms, settings.Window, cancel);
        }
        catch (Exception e) when (e is TimeoutException or MeasurementBrokenException)
        {
            failures.Add($"load at N={settings.Subscribers}: {e.Message}");
            log($"{rooms.Server.Name}: {failures[^1]}");
        }

        await rooms.ResizeAsync(0, cancel);
        var joins = new List<double>();
        if (settings.Joins > 0)
        {
            log($"{rooms.Server.Name}: {settings.Joins} joins, one at a time");
            try
            {
                joins = await JoinTimes.RunAsync(rooms, settings.Joins, log, cancel);
            }
            catch (Exception e) when (e is TimeoutException or MeasurementBrokenException)
            {
                failures.Add($"joins: {e.Message}");
                log($"{rooms.Server.Name}: {failures[^1]}");
            }
        }

        return new ServerFigures(rooms.Server.Name, largest, steps, load, joins, failures);
    }
}

/// <summary>The comparison's settings, the same for every server.</summary>
sealed record Settings(bool Audio, bool Burst, int Subscribers, TimeSpan Warmup, TimeSpan Window, bool FindLargest, int Start, int Max, TimeSpan StepWarmup, TimeSpan StepWindow, int Joins);
