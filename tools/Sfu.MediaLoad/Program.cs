// Media load, latency, join time, capacity and recovery measurements, against our server (running, reached at --url)
// or Janus's VideoRoom (started by the tool itself), or both one after the other with the same settings.
//
//   load (default): 1 publisher (VP8-like video ~1.5 Mbit/s at 30 fps whose packets carry their send time, paced as a
//     browser paces them unless --burst, optionally Opus-like audio) and N subscribers in one room (or spread over
//     --rooms R rooms, a publisher each); after they all receive video and a warm-up, measures a window of
//     D seconds: packets/s received, per-subscriber loss, server CPU per packet, one-way latency p50/p99/max.
//   latency: the same at 10 %, 50 % and 90 % of N (or of the largest N found with --find).
//   joins: join time, from opening the WebSocket to the first whole key frame decrypted, p50/p99 over --joins joins.
//   capacity: the largest N the server carries without loss (doubling, then bisection; short steps).
//   compare: capacity, load at N and joins against our server, then Janus; a side-by-side table.
//   recovery: 1 publisher, 1 subscriber on our server; R port changes timed against fresh re-subscribes.
//
// Server CPU: utime+stime of /proc/<pid>/stat; for our server without --pid, the process whose socket listens on the
// URL's TCP port (found through /proc/net/tcp{,6} and /proc/*/fd, so it must run as the same user); for Janus, the
// process the tool started. --help lists every option.
using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Sfu.MediaLoad.Janus;
using Sfu.MediaLoad.Measurement;
using Sfu.MediaLoad.Servers;
using Sfu.Tools;

var modeArgument = new Argument<string>("mode")
{
    Description = "load, latency, joins, capacity, compare (our server, then Janus) or recovery",
    DefaultValueFactory = _ => "load",
}.AcceptOnlyFromAmong("load", "latency", "joins", "capacity", "compare", "recovery");
var serverOption = new Option<string>("--server")
{
    Description = "sfu: our server at --url; janus: a Janus the tool starts (not for compare or recovery)",
    DefaultValueFactory = _ => "sfu",
}.AcceptOnlyFromAmong("sfu", "janus");
var urlOption = ToolCommandLine.UrlOption("--url", "Our server's HTTP address (the WebSocket is its /ws)", "http://127.0.0.1:8080", "http", "https");
var pidOption = ToolCommandLine.IntOption("--pid", "Our server's process id for CPU figures; 0: the process listening on the URL's port", 0, minimum: 0);
var addressOption = new Option<string?>("--address")
{
    Description = "The clients' local address, and the only address Janus gathers ICE candidates on; default: 127.0.0.1 for our server alone, "
        + "else the first non-loopback IPv4 address of an interface that is up (Janus never uses loopback)",
    HelpName = "ip",
};
var janusOption = new Option<string>("--janus") { Description = "The Janus executable", DefaultValueFactory = _ => "/usr/bin/janus", HelpName = "path" };
var janusDebugOption = ToolCommandLine.IntOption("--janus-debug-level", "Janus's log level (0-7); above 3 its log (with libnice's debugging) is kept and its path printed", 3, minimum: 0);
var janusCpuOption = ToolCommandLine.IntOption("--janus-cpu", "Pin Janus to this core with taskset; -1: no pinning", -1, minimum: -1);
var subscribersOption = ToolCommandLine.IntOption("--subscribers", "Subscribers N (load, compare; the 100 % of latency)", 10, minimum: 1);
var secondsOption = ToolCommandLine.IntOption("--seconds", "Seconds measured (load, latency, compare)", 15, minimum: 1);
var warmupOption = ToolCommandLine.IntOption("--warmup", "Seconds after every subscriber receives video, before measuring", 3, minimum: 0);
var audioOption = new Option<bool>("--audio") { Description = "Publish Opus-like audio besides the video" };
var burstOption = new Option<bool>("--burst")
{
    Description = "Send each video frame's packets back to back (the harshest load: one core fans out a whole frame at once) "
        + "instead of pacing them as a browser does (libwebrtc's pacer: 2.5 times the bitrate, bursts of at most 1 ms; the default)",
};
var findOption = new Option<bool>("--find") { Description = "latency: take N from a capacity search instead of --subscribers; compare: also search" };
var startOption = ToolCommandLine.IntOption("--start", "The capacity search's first N", 25, minimum: 1);
var maxOption = ToolCommandLine.IntOption("--max-subscribers", "The capacity search's largest N", 1600, minimum: 1);
var stepSecondsOption = ToolCommandLine.IntOption("--step-seconds", "Seconds measured per capacity step (after 2 s of warm-up)", 5, minimum: 1);
var joinsOption = ToolCommandLine.IntOption("--joins", "Joins timed (joins, compare; 0 skips them in compare)", 100, minimum: 0);
var roomsOption = ToolCommandLine.IntOption("--rooms", "Rooms the subscribers are spread over, each with its own publisher (load, latency, capacity, compare); 1 is the hardest fan-out", 1, minimum: 1);
var repsOption = ToolCommandLine.IntOption("--reps", "Port changes, then as many fresh re-subscribes (recovery)", 20, minimum: 1);
var jsonOption = ToolCommandLine.JsonOption();
var command = new RootCommand("Media load, latency, join time, capacity and recovery measurements against our server, Janus's VideoRoom, or both.")
{
    modeArgument, serverOption, urlOption, pidOption, addressOption, janusOption, janusCpuOption, janusDebugOption, subscribersOption, secondsOption,
    warmupOption, audioOption, burstOption, findOption, startOption, maxOption, stepSecondsOption, joinsOption, roomsOption, repsOption, jsonOption,
};
addressOption.Validators.Add(result =>
{
    if (result.GetValueOrDefault<string?>() is { } address && !IPAddress.TryParse(address, out _))
        result.AddError($"--address must be an IP address, not '{address}'");
});
command.SetAction((result, _) => RunAsync(new Options(
    result.GetValue(modeArgument)!, result.GetValue(serverOption)!, result.GetValue(urlOption)!,
    result.GetValue(pidOption) is > 0 and var pid ? pid : null,
    result.GetValue(addressOption) is { } address ? IPAddress.Parse(address) : null,
    result.GetValue(janusOption)!, result.GetValue(janusCpuOption) is >= 0 and var cpu ? cpu : null, Math.Min(7, result.GetValue(janusDebugOption)),
    new Settings(result.GetValue(audioOption), result.GetValue(burstOption), result.GetValue(subscribersOption), TimeSpan.FromSeconds(result.GetValue(warmupOption)),
        TimeSpan.FromSeconds(result.GetValue(secondsOption)), result.GetValue(findOption), result.GetValue(startOption), result.GetValue(maxOption),
        TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(result.GetValue(stepSecondsOption)), result.GetValue(joinsOption)),
    result.GetValue(roomsOption), result.GetValue(repsOption), result.GetValue(jsonOption))));
return await ToolCommandLine.RunAsync(command, args);

static async Task<int> RunAsync(Options options)
{
    // Whole run's ceiling, so that a stuck server or a lost event can never keep the tool alive.
    using var deadline = new CancellationTokenSource(options.Mode switch
    {
        "recovery" => TimeSpan.FromSeconds(60 + (options.Reps * 20)),
        "load" => TimeSpan.FromSeconds(120) + options.Settings.Window,
        _ => TimeSpan.FromMinutes(60),
    });
    try
    {
        var summary = options.Mode switch
        {
            "compare" => await CompareAsync(options, deadline.Token),
            "recovery" => await WithServerAsync(options, "sfu", async rooms => await Recovery.RunAsync(rooms, (SfuDriver)rooms.Server, options.Reps, options.Settings.Audio, deadline.Token), deadline.Token),
            _ => await WithServerAsync(options, options.Server, rooms => RunModeAsync(options, rooms, deadline.Token), deadline.Token),
        };
        ToolCommandLine.WriteSummary(options.Json, summary);
        return 0;
    }
    catch (Exception e) when (e is OperationCanceledException or TimeoutException or JanusException or MeasurementBrokenException
        or System.Net.WebSockets.WebSocketException or HttpRequestException or Sfu.Client.Signaling.SignalingException)
    {
        Console.WriteLine($"gave up: {e.Message}");
        return 1;
    }
}

static async Task<object> RunModeAsync(Options options, Rooms rooms, CancellationToken cancel)
{
    var settings = options.Settings;
    await rooms.StartPublishersAsync(settings.Audio, cancel);
    switch (options.Mode)
    {
        case "load":
        {
            await JoinWithProgressAsync(rooms, settings.Subscribers, cancel);
            Console.WriteLine($"warming up {settings.Warmup.TotalSeconds:F0} s, then measuring {settings.Window.TotalSeconds:F0} s");
            await Task.Delay(settings.Warmup, cancel);
            var window = await LoadWindow.MeasureAsync(rooms, settings.Window, cancel);
            Report.Print(window);
            return new { mode = "load", settings.Audio, load = Report.Json(window) };
        }
        case "latency":
        {
            int full = settings.Subscribers;
            if (settings.FindLargest)
            {
                (full, _) = await CapacitySearch.RunAsync(rooms, settings.Start, settings.Max, settings.StepWarmup, settings.StepWindow, Console.WriteLine, cancel);
                Console.WriteLine($"largest N without loss: {full}");
            }

            var levels = new List<object>();
            foreach (var percent in new[] { 10, 50, 90 })
            {
                int n = Math.Max(1, (int)Math.Round(full * percent / 100.0));
                await rooms.ResizeAsync(n, cancel);
                await Task.Delay(settings.Warmup, cancel);
                var window = await LoadWindow.MeasureAsync(rooms, settings.Window, cancel);
                Console.WriteLine(Report.Invariant($"{percent,3} % of N={full}: {n} subscribers, loss {window.LossPercent:F3} %, latency {Report.Latency(window.Latency)}"));
                if (Report.Residence(window) is { } residence)
                    Console.WriteLine($"      inside the server (its histogram): {residence}");
                levels.Add(new { percent, load = Report.Json(window) });
            }

            return new { mode = "latency", fullLoad = full, found = settings.FindLargest, levels };
        }
        case "joins":
        {
            var joins = await JoinTimes.RunAsync(rooms, Math.Max(1, settings.Joins), Console.WriteLine, cancel);
            Console.WriteLine(Report.Invariant($"join time over {joins.Count} joins: p50 {Report.Percentile(joins, 0.5):F1} ms, p99 {Report.Percentile(joins, 0.99):F1} ms, max {joins.Max():F1} ms"));
            return new { mode = "joins", server = rooms.Server.Name, joinMs = Report.SummaryJson(joins) };
        }
        default:
        {
            var (largest, steps) = await CapacitySearch.RunAsync(rooms, settings.Start, settings.Max, settings.StepWarmup, settings.StepWindow, Console.WriteLine, cancel);
            Console.WriteLine($"largest N without loss: {largest}");
            return ComparisonTable.Json(new ServerFigures(rooms.Server.Name, largest, steps, steps.LastOrDefault(s => s.Passed)?.Window, [], []));
        }
    }
}

static async Task<object> CompareAsync(Options options, CancellationToken cancel)
{
    var figures = new List<ServerFigures>();
    foreach (var server in new[] { "sfu", "janus" })
    {
        figures.Add(await WithServerAsync(options, server, rooms => ServerFigures.MeasureAsync(rooms, options.Settings, Console.WriteLine, cancel), cancel));
    }

    Console.WriteLine();
    ComparisonTable.Print(figures[0], figures[1]);
    return new { mode = "compare", options.Settings.Audio, options.Settings.Subscribers, servers = figures.Select(ComparisonTable.Json) };
}

/// <summary>Opens <paramref name="server"/>, runs <paramref name="body"/> on fresh rooms of it, and closes them all.</summary>
static async Task<T> WithServerAsync<T>(Options options, string server, Func<Rooms, Task<T>> body, CancellationToken cancel)
{
    var address = options.Address ?? (options.Mode == "compare" || server == "janus" ? NonLoopbackAddress() : IPAddress.Loopback);
    await using IServerDriver driver = server == "sfu"
        ? new SfuDriver(options.Url, options.Pid ?? ServerProcess.FindListening(options.Url.Port))
        : new JanusDriver(await JanusProcess.StartAsync(options.Janus, address, options.JanusCpu, options.JanusDebugLevel, cancel));
    Console.WriteLine($"{driver.Name}: pid {driver.ProcessId?.ToString(CultureInfo.InvariantCulture) ?? "not found (no CPU figures)"}, clients on {address}");
    // Recovery times one subscriber's port changes: other rooms would only add load.
    var roomCount = options.Mode == "recovery" ? 1 : options.RoomCount;
    await using var rooms = new Rooms(driver, $"media-load-{Environment.ProcessId}-{driver.Name}", roomCount, address,
        options.Settings.Burst ? 0 : Sfu.Client.Media.VideoPacer.LibWebRtcPacingFactor);
    return await body(rooms);
}

static async Task JoinWithProgressAsync(Rooms rooms, int subscribers, CancellationToken cancel)
{
    using var joining = CancellationTokenSource.CreateLinkedTokenSource(cancel);
    var progress = ToolCommandLine.ReportProgressAsync(() => $"joining: {rooms.ReceivingVideo}/{subscribers} subscribers receiving video", joining.Token);
    try
    {
        await rooms.AddSubscribersAsync(subscribers, cancel);
    }
    finally
    {
        await joining.CancelAsync();
        await progress;
    }
}

static IPAddress NonLoopbackAddress() =>
    NetworkInterface.GetAllNetworkInterfaces()
        .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback)
        .SelectMany(i => i.GetIPProperties().UnicastAddresses)
        .Select(a => a.Address)
        .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
    ?? throw new InvalidOperationException("no non-loopback IPv4 address for Janus's ICE: pass --address");

/// <summary>The command line, validated.</summary>
sealed record Options(string Mode, string Server, Uri Url, int? Pid, IPAddress? Address, string Janus, int? JanusCpu, int JanusDebugLevel, Settings Settings, int RoomCount, int Reps, FileInfo? Json);
