// Media load and recovery measurements against a running server; starts nothing itself.
//
//   load (default): 1 publisher (VP8-like video ~1.5 Mbit/s at 30 fps, optionally Opus-like audio) and N subscribers
//     (Sfu.Client) in one room; after they all receive video and a warm-up, measures a window of D seconds and prints
//     forwarded packets/s, per-subscriber loss, server CPU time and worker allocation per forwarded packet.
//   recovery: 1 publisher, 1 subscriber; R times the subscriber's UDP port changes (ClientTransport.RebindAsync):
//     server recovery time from /metrics and time until the first keyframe on the new port. Then R times the old
//     workaround: a fresh SignalingClient + Subscriber joins (new transport, new DTLS) until its first keyframe.
//
// Usage: dotnet tools/Sfu.MediaLoad/bin/Release/net10.0/Sfu.MediaLoad.dll [load|recovery] [--url http://127.0.0.1:8080]
//          [--subscribers 10] [--seconds 15] [--warmup 3] [--audio] [--reps 20] [--pid <server pid>] [--json <file>] (--help lists them)
// Server CPU: utime+stime of /proc/<pid>/stat; without --pid, the process whose socket listens on the URL's TCP port
// (found through /proc/net/tcp{,6} and /proc/*/fd, so it must run as the same user).
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Sfu.Client;
using Sfu.Client.Signaling;
using Sfu.Client.Transport;
using Sfu.Tools;

var modeArgument = new Argument<string>("mode")
{
    Description = "load: one publisher and N subscribers, forwarding figures; recovery: port changes timed against fresh re-subscribes",
    DefaultValueFactory = _ => "load",
}.AcceptOnlyFromAmong("load", "recovery");
var urlOption = ToolCommandLine.UrlOption("--url", "The server's HTTP address (the WebSocket is its /ws)", "http://127.0.0.1:8080", "http", "https");
var subscribersOption = ToolCommandLine.IntOption("--subscribers", "Subscribers (load)", 10, minimum: 1);
var secondsOption = ToolCommandLine.IntOption("--seconds", "Seconds measured (load)", 15, minimum: 1);
var warmupOption = ToolCommandLine.IntOption("--warmup", "Seconds after every subscriber receives video, before measuring (load)", 3, minimum: 0);
var audioOption = new Option<bool>("--audio") { Description = "Publish Opus-like audio besides the video" };
var repsOption = ToolCommandLine.IntOption("--reps", "Port changes, then as many fresh re-subscribes (recovery)", 20, minimum: 1);
var pidOption = ToolCommandLine.IntOption("--pid", "The server's process id for CPU figures; 0: the process listening on the URL's port", 0, minimum: 0);
var jsonOption = ToolCommandLine.JsonOption();
var command = new RootCommand("Media load and recovery measurements against a running server; starts nothing itself.")
{
    modeArgument, urlOption, subscribersOption, secondsOption, warmupOption, audioOption, repsOption, pidOption, jsonOption,
};
command.SetAction((result, _) => RunAsync(new Options(result.GetValue(modeArgument)!, result.GetValue(urlOption)!, result.GetValue(subscribersOption),
    result.GetValue(secondsOption), result.GetValue(warmupOption), result.GetValue(audioOption), result.GetValue(repsOption),
    result.GetValue(pidOption) is > 0 and var pid ? pid : null, result.GetValue(jsonOption))));
return await ToolCommandLine.RunAsync(command, args);

static async Task<int> RunAsync(Options options)
{
    using var http = new HttpClient { BaseAddress = options.Url, Timeout = TimeSpan.FromSeconds(5) };
    var serverPid = options.Pid ?? ServerProcess.FindListening(options.Url.Port);
    Console.WriteLine($"server {options.Url} pid {serverPid?.ToString(CultureInfo.InvariantCulture) ?? "not found (no CPU figures)"}");
    // Whole run's ceiling, so that a stuck server or a lost event can never keep the tool alive.
    using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(options.Mode == "recovery" ? 60 + options.Reps * 20 : 120 + options.Seconds));
    try
    {
        var summary = options.Mode == "recovery"
            ? await Recovery.RunAsync(options, http, deadline.Token)
            : await Load.RunAsync(options, http, serverPid, deadline.Token);
        ToolCommandLine.WriteSummary(options.Json, summary);
        return 0;
    }
    catch (Exception e) when (e is OperationCanceledException or TimeoutException)
    {
        Console.WriteLine($"gave up: {e.Message}");
        return 1;
    }
}

static class Load
{
    public static async Task<object> RunAsync(Options options, HttpClient http, int? serverPid, CancellationToken cancel)
    {
        var room = $"media-load-{Environment.ProcessId}";
        var call = new Call(options.WebSocketUri, room);
        try
        {
            await call.StartPublisherAsync(options.Audio, cancel);
            var joinWatch = Stopwatch.StartNew();
            using (var joining = CancellationTokenSource.CreateLinkedTokenSource(cancel))
            {
                var progress = ToolCommandLine.ReportProgressAsync(() => $"joining: {call.ReceivingVideo}/{options.Subscribers} subscribers receiving video", joining.Token);
                await call.AddSubscribersAsync(options.Subscribers, cancel);
                await joining.CancelAsync();
                await progress;
            }
            Console.WriteLine($"{options.Subscribers} subscribers receiving video after {joinWatch.Elapsed.TotalSeconds:F1} s; warming up {options.WarmupSeconds} s");
            await Task.Delay(TimeSpan.FromSeconds(options.WarmupSeconds), cancel);

            var before = await Sample.TakeAsync(http, serverPid, call, cancel);
            var window = Stopwatch.StartNew();
            using (var measuring = CancellationTokenSource.CreateLinkedTokenSource(cancel))
            {
                measuring.CancelAfter(TimeSpan.FromSeconds(options.Seconds));
                await ToolCommandLine.ReportProgressAsync(
                    () => $"measuring: {window.Elapsed.TotalSeconds:F0}/{options.Seconds} s, {call.VideoPacketsReceived} video packets received by subscribers so far",
                    measuring.Token);
            }
            cancel.ThrowIfCancellationRequested();
            var after = await Sample.TakeAsync(http, serverPid, call, cancel);
            return Report(options, before, after, call);
        }
        finally
        {
            await call.DisposeAsync();
        }
    }

    private static object Report(Options options, Sample before, Sample after, Call call)
    {
        var seconds = (after.At - before.At) / (double)Stopwatch.Frequency;
        var forwarded = after.Forwarded - before.Forwarded;
        var lost = new List<long>();
        var expected = new List<long>();
        for (var i = 0; i < after.Streams.Length; i++)
        {
            lost.Add(after.Streams[i].Lost - before.Streams[i].Lost);
            expected.Add(after.Streams[i].Expected - before.Streams[i].Expected);
        }
        var lossPercent = lost.Select((l, i) => expected[i] == 0 ? 100.0 : 100.0 * l / expected[i]).ToArray();
        var serverCpu = after.ServerCpu - before.ServerCpu;
        var clientCpu = after.ClientCpu - before.ClientCpu;
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"subscribers N             {options.Subscribers}"));
        Console.WriteLine(string.Create(inv, $"window                    {seconds:F1} s"));
        Console.WriteLine(string.Create(inv, $"publisher sent            {call.Publisher!.VideoPacketsSent} video, {call.Publisher.AudioPacketsSent} audio packets in all"));
        Console.WriteLine(string.Create(inv, $"forwarded packets/s       {forwarded / seconds:F0}"));
        Console.WriteLine(string.Create(inv, $"lost per subscriber       min {lost.Min()} avg {lost.Average():F1} max {lost.Max()} packets; min {lossPercent.Min():F3} avg {lossPercent.Average():F3} max {lossPercent.Max():F3} % of {expected.Average():F0} expected"));
        Console.WriteLine(serverCpu is null
            ? "server CPU                unknown (pass --pid)"
            : string.Create(inv, $"server CPU                {serverCpu.Value.TotalSeconds / seconds * 100:F1} % of one core; {serverCpu.Value.TotalMicroseconds / Math.Max(1, forwarded):F2} µs per forwarded packet"));
        Console.WriteLine(string.Create(inv, $"load tool CPU             {clientCpu.TotalSeconds / seconds * 100:F1} % of one core"));
        Console.WriteLine(string.Create(inv, $"worker allocated/packet   {(after.WorkerAllocated - before.WorkerAllocated) / Math.Max(1, forwarded):F3} bytes ({after.WorkerAllocated - before.WorkerAllocated} bytes in the window)"));
        return new
        {
            mode = "load", options.Subscribers, windowSeconds = seconds, options.Audio,
            publisherVideoPackets = call.Publisher.VideoPacketsSent, publisherAudioPackets = call.Publisher.AudioPacketsSent,
            forwardedPerSecond = forwarded / seconds,
            lostPerSubscriber = new { min = lost.Min(), avg = lost.Average(), max = lost.Max() },
            lossPercent = new { min = lossPercent.Min(), avg = lossPercent.Average(), max = lossPercent.Max() },
            serverCpuPercentOfOneCore = serverCpu?.TotalSeconds / seconds * 100,
            serverCpuMicrosecondsPerForwardedPacket = serverCpu?.TotalMicroseconds / Math.Max(1, forwarded),
            loadToolCpuPercentOfOneCore = clientCpu.TotalSeconds / seconds * 100,
            workerAllocatedBytesPerPacket = (after.WorkerAllocated - before.WorkerAllocated) / Math.Max(1, forwarded),
        };
    }
}

static class Recovery
{
    private static readonly TimeSpan KeyframeWait = TimeSpan.FromSeconds(5);

    // Keyframe requests to one publisher stream are throttled to one per second (KeyframeRequestIntervalMs): pause
    // longer than that between repetitions, so each one's request goes out at once as it would for a lone rebind.
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(1200);

    public static async Task<object> RunAsync(Options options, HttpClient http, CancellationToken cancel)
    {
        var room = $"media-recovery-{Environment.ProcessId}";
        var call = new Call(options.WebSocketUri, room);
        try
        {
            // With audio too, the next packet after a switch comes sooner (every 20 ms instead of every 33 ms frame).
            await call.StartPublisherAsync(options.Audio, cancel);
            await call.AddSubscribersAsync(1, cancel);
            await Task.Delay(Pause, cancel);

            var server = new List<double>();
            var keyframe = new List<double>();
            long lostInRebinds = 0;
            for (var rep = 0; rep < options.Reps; rep++)
            {
                var (sum, count) = await Metrics.RecoveryAsync(http, cancel);
                var subscriber = call.Subscribers[0];
                var lostBefore = Call.Video(subscriber)!.Lost;
                var start = Stopwatch.GetTimestamp();
                await subscriber.Transport.RebindAsync();
                keyframe.Add(await UntilKeyframeAfterAsync(subscriber, start, cancel));
                var recorded = await UntilAsync(async () => await Metrics.RecoveryAsync(http, cancel) is var now && now.Count > count ? now : ((double, double)?)null, cancel);
                server.Add((recorded.Item1 - sum) / (recorded.Item2 - count) * 1000);
                // Plus up to one frame interval at random: a fixed pause would rebind at the same phase of the
                // publisher's 30 fps clock each time and measure one wait for the next packet over and over.
                await Task.Delay(Pause + TimeSpan.FromMilliseconds(Random.Shared.Next(34)), cancel);
                lostInRebinds += Call.Video(subscriber)!.Lost - lostBefore;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rebind {rep + 1}/{options.Reps}: server {server[^1]:F3} ms, first keyframe {keyframe[^1]:F1} ms"));
            }

            var workaround = new List<double>();
            for (var rep = 0; rep < options.Reps; rep++)
            {
                // The old subscriber goes away first (leave, so the server drops its transport), untimed: a client
                // whose network changed would not get to do that. Timing starts as the fresh one connects.
                await call.RemoveSubscriberAsync(0);
                var start = Stopwatch.GetTimestamp();
                await call.AddSubscribersAsync(1, cancel);
                workaround.Add(await UntilKeyframeAfterAsync(call.Subscribers[0], start, cancel));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"re-subscribe {rep + 1}/{options.Reps}: first keyframe {workaround[^1]:F1} ms"));
                await Task.Delay(Pause + TimeSpan.FromMilliseconds(Random.Shared.Next(34)), cancel);
            }

            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Create(inv, $"rebinds: {options.Reps} ({(options.Audio ? "video and audio" : "video only")}), video packets lost across all: {lostInRebinds}"));
            Console.WriteLine(string.Create(inv, $"(a) server: verified check from new address -> first media sent there: median {Median(server):F3} ms, p95 {P95(server):F3} ms, max {server.Max():F3} ms"));
            Console.WriteLine(string.Create(inv, $"(b) subscriber: rebind -> first keyframe on the new port:              median {Median(keyframe):F1} ms, p95 {P95(keyframe):F1} ms, max {keyframe.Max():F1} ms"));
            Console.WriteLine(string.Create(inv, $"workaround: fresh signaling + subscriber (new DTLS) -> first keyframe:  median {Median(workaround):F1} ms, p95 {P95(workaround):F1} ms, max {workaround.Max():F1} ms"));
            return new
            {
                mode = "recovery", options.Reps, options.Audio, videoPacketsLostInRebinds = lostInRebinds,
                serverRecoveryMs = Summary(server), firstKeyframeAfterRebindMs = Summary(keyframe), firstKeyframeAfterResubscribeMs = Summary(workaround),
            };
        }
        finally
        {
            await call.DisposeAsync();
        }
    }

    /// <summary>Milliseconds from <paramref name="start"/> to the first keyframe the subscriber received after it.</summary>
    private static async Task<double> UntilKeyframeAfterAsync(Subscriber subscriber, long start, CancellationToken cancel)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(KeyframeWait);
        var at = await UntilAsync(() => Task.FromResult(Call.Video(subscriber) is { } v && v.LastKeyframeAt > start ? v.LastKeyframeAt : (long?)null), limit.Token);
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

    private static object Summary(List<double> values) => new { median = Median(values), p95 = P95(values), max = values.Max() };

    private static double Median(List<double> values) => Percentile(values, 0.5);

    private static double P95(List<double> values) => Percentile(values, 0.95);

    // Nearest rank: with 20 values, p95 is the 19th smallest.
    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>One room: a publisher and any number of subscribers, each with its own signaling connection.</summary>
sealed class Call(Uri webSocket, string room) : IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private const int ConnectConcurrency = 8;
    private readonly List<SignalingClient> _signaling = [];
    private SignalingClient? _publisherSignaling;
    private int _joined;

    public Publisher? Publisher { get; private set; }

    public List<Subscriber> Subscribers { get; } = [];

    /// <summary>Subscribers that have received video so far (for progress lines).</summary>
    public int ReceivingVideo
    {
        get { lock (_signaling) return Subscribers.Count(s => (Video(s)?.Packets ?? 0) > 0); }
    }

    /// <summary>Video packets every subscriber has received so far (for progress lines).</summary>
    public long VideoPacketsReceived
    {
        get { lock (_signaling) return Subscribers.Sum(s => Video(s)?.Packets ?? 0); }
    }

    public static ReceivedStreamStats? Video(Subscriber subscriber)
    {
        var mid = subscriber.Offer?.Media.FirstOrDefault(m => m.Kind == "video" && !m.IsRejected)?.Mid;
        return mid is null ? null : subscriber.FindByMid(mid);
    }

    public async Task StartPublisherAsync(bool audio, CancellationToken cancel)
    {
        _publisherSignaling = await SignalingClient.ConnectAsync(webSocket, cancellation: cancel);
        await _publisherSignaling.JoinAsync(room, "publisher", autoSubscribe: false).WaitAsync(Wait, cancel);
        Publisher = new Publisher(new PublisherOptions { Audio = audio });
        await Publisher.PublishAsync(_publisherSignaling).WaitAsync(Wait, cancel);
        await Publisher.Transport.WaitConnectedAsync(Wait).WaitAsync(cancel);
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
                var signaling = await SignalingClient.ConnectAsync(webSocket, cancellation: cancel);
                var subscriber = new Subscriber(signaling);
                lock (_signaling)
                {
                    _signaling.Add(signaling);
                    Subscribers.Add(subscriber);
                }
                await signaling.JoinAsync(room, $"subscriber-{Interlocked.Increment(ref _joined)}").WaitAsync(Wait, cancel);
                await subscriber.WaitForOffersAnsweredAsync(1, Wait).WaitAsync(cancel);
                await subscriber.Transport.WaitConnectedAsync(Wait).WaitAsync(cancel);
                return subscriber;
            }
            finally
            {
                gate.Release();
            }
        }));
        var watch = Stopwatch.StartNew();
        while (added.Any(s => (Video(s)?.Packets ?? 0) == 0))
        {
            if (watch.Elapsed > Wait) throw new TimeoutException($"{added.Count(s => (Video(s)?.Packets ?? 0) == 0)} subscribers got no video");
            await Task.Delay(20, cancel);
        }
    }

    public async Task RemoveSubscriberAsync(int index)
    {
        var subscriber = Subscribers[index];
        var signaling = _signaling[index];
        Subscribers.RemoveAt(index);
        _signaling.RemoveAt(index);
        try { await signaling.LeaveAsync().WaitAsync(Wait); }
        catch (Exception e) when (e is SignalingException or TimeoutException or InvalidOperationException) { }
        subscriber.Dispose();
        await signaling.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        // Leave explicitly: peers that just vanish stay in the room (and get media) until the offline timeout,
        // which would load the server during the next run.
        var everyone = _signaling.Append(_publisherSignaling).OfType<SignalingClient>();
        try { await Task.WhenAll(everyone.Select(s => s.LeaveAsync())).WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (Exception e) when (e is SignalingException or TimeoutException or InvalidOperationException
            or System.Net.WebSockets.WebSocketException or IOException) { }
        foreach (var subscriber in Subscribers) subscriber.Dispose();
        Publisher?.Dispose();
        // Bounded: the process exits right after, so a socket slow to close is not worth waiting for.
        try { await Task.WhenAll(everyone.Select(s => s.DisposeAsync().AsTask())).WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (TimeoutException) { }
    }
}

/// <summary>Everything read at one end of the measurement window.</summary>
sealed record Sample(long At, double Forwarded, double WorkerAllocated, TimeSpan? ServerCpu, TimeSpan ClientCpu, (long Lost, long Expected)[] Streams)
{
    public static async Task<Sample> TakeAsync(HttpClient http, int? serverPid, Call call, CancellationToken cancel)
    {
        var at = Stopwatch.GetTimestamp();
        var cpu = serverPid is { } pid ? ServerProcess.CpuTime(pid) : null;
        var streams = call.Subscribers.Select(s => s.Streams.Where(x => !x.IsRtx).Aggregate((Lost: 0L, Expected: 0L),
            (sum, x) => (sum.Lost + x.Lost, sum.Expected + x.Lost + x.Distinct))).ToArray();
        var text = await http.GetStringAsync("/metrics", cancel);
        return new Sample(at, Metrics.Read(text, "sfu_media_rtp_forwarded_total"), Metrics.Read(text, "sfu_media_worker_allocated_bytes_total"),
            cpu, Process.GetCurrentProcess().TotalProcessorTime, streams);
    }
}

static partial class Metrics
{
    public static double Read(string text, string series) =>
        SeriesLine().Matches(text).FirstOrDefault(m => m.Groups[1].Value == series) is { } match
            ? double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture)
            : 0;

    public static async Task<(double Sum, double Count)> RecoveryAsync(HttpClient http, CancellationToken cancel)
    {
        var text = await http.GetStringAsync("/metrics", cancel);
        return (Read(text, "sfu_media_recovery_time_seconds_sum"), Read(text, "sfu_media_recovery_time_seconds_count"));
    }

    [GeneratedRegex(@"^([a-z_]+(?:\{[^}]*\})?) ([0-9.eE+-]+)$", RegexOptions.Multiline)]
    private static partial Regex SeriesLine();
}

/// <summary>The server's process on this machine, through /proc.</summary>
static partial class ServerProcess
{
    private const int ScClockTicks = 2; // _SC_CLK_TCK on Linux

    /// <summary>utime + stime of every thread of the process so far.</summary>
    public static TimeSpan? CpuTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / (double)sysconf(ScClockTicks));
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The process holding the socket that listens on TCP <paramref name="port"/>, or null.</summary>
    public static int? FindListening(int port)
    {
        var inodes = new HashSet<string>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table)) continue;
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st ... inode (10th column); local_address is ADDR:PORT in hex, 0A = LISTEN.
                var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (columns.Length > 9 && columns[3] == "0A" && int.Parse(columns[1][(columns[1].IndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
                    inodes.Add($"socket:[{columns[9]}]");
            }
        }
        if (inodes.Count == 0) return null;
        foreach (var process in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(process), out var pid)) continue;
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries($"{process}/fd"))
                {
                    if (new FileInfo(fd).LinkTarget is { } target && inodes.Contains(target)) return pid;
                }
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException) { }
        }
        return null;
    }

    [LibraryImport("libc")]
    private static partial long sysconf(int name);
}

/// <summary>The command line, validated.</summary>
sealed record Options(string Mode, Uri Url, int Subscribers, int Seconds, int WarmupSeconds, bool Audio, int Reps, int? Pid, FileInfo? Json)
{
    public Uri WebSocketUri => new UriBuilder(Url) { Scheme = Url.Scheme == "https" ? "wss" : "ws", Path = "/ws" }.Uri;
}
