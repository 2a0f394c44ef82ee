// Signaling load generator: opens N WebSocket sessions against a running server, joins them into rooms, and has
// each ping on the protocol's interval from the moment it joined (as real clients do, so nobody looks silent).
// Once every session has joined and a warm-up has passed, it records ping round trips for the measured period,
// then prints sessions held, join rate and round-trip percentiles, and its own garbage-collection pauses (a pause
// here delays every round trip in flight, so it is part of what the percentiles show).
// Usage: dotnet run -c Release --project tools/Sfu.LoadTest -- [url] [sessions] [peersPerRoom] [seconds] [pingMs] [warmUpSeconds] [--json file]
// (--help lists them). `failover <survivor ws url> --kill-pid <pid>` instead measures how long a room takes to come back
// after its node is killed (Failover.cs; tools/Sfu.LoadTest/failover.sh starts the cluster it needs). A short warm-up (the default, 3 s) puts the server's first collections after the burst of joins
// into the measured period; a longer one (30 s) measures the steady state (docs/BENCHMARKS.md shows both).
using System.Buffers.Text;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Sfu.Tools;

const int ConnectConcurrency = 64;
const long NoGcBudgetBytes = 1024L * 1024 * 1024;

var urlArgument = ToolCommandLine.UrlArgument("url", "The server's signaling WebSocket", "ws://127.0.0.1:8080/ws", "ws", "wss");
var sessionsArgument = ToolCommandLine.IntArgument("sessions", "Sessions to open", 5000, minimum: 1);
var peersArgument = ToolCommandLine.IntArgument("peersPerRoom", "Sessions per room", 10, minimum: 1);
var secondsArgument = ToolCommandLine.IntArgument("seconds", "Seconds of ping round trips measured", 30, minimum: 1);
var pingArgument = ToolCommandLine.IntArgument("pingMs", "Ping interval of every session, ms", 1000, minimum: 10);
var warmUpArgument = ToolCommandLine.IntArgument("warmUpSeconds", "Wait after the last join before measuring, s", 3, minimum: 0);
var jsonOption = ToolCommandLine.JsonOption();
var command = new RootCommand("Signaling load: N sessions join rooms and ping; prints sessions held, join rate, refusals and round-trip percentiles.")
{
    urlArgument, sessionsArgument, peersArgument, secondsArgument, pingArgument, warmUpArgument, jsonOption,
};
var survivorArgument = ToolCommandLine.UrlArgument("survivor", "The signaling WebSocket of the node that stays up", "ws://127.0.0.1:8080/ws", "ws", "wss");
var killPidOption = new Option<int>("--kill-pid") { Description = "The process id of the node that holds the room, which the tool kills (SIGKILL; SIGTERM with --graceful)", HelpName = "pid", Required = true };
var gracefulOption = new Option<bool>("--graceful") { Description = "SIGTERM instead of SIGKILL: the node shuts down as on a deployment" };
var roomOption = new Option<string?>("--room") { Description = "The room to join (default: a fresh name)", HelpName = "name" };
var giveUpOption = ToolCommandLine.IntOption("--give-up-seconds", "Stop trying to come back after this long since the kill", 60, minimum: 1);
var retryOption = ToolCommandLine.IntOption("--retry-ms", "Wait between two attempts to come back", 100, minimum: 1);
var failoverJsonOption = ToolCommandLine.JsonOption();
var failover = new Command("failover", "Kills the node that holds a room a client reached through another node; prints how long until the client is back in the room (tools/Sfu.LoadTest/failover.sh starts the cluster).")
{
    survivorArgument, killPidOption, gracefulOption, roomOption, giveUpOption, retryOption, failoverJsonOption,
};
failover.SetAction((result, _) => Failover.RunAsync(new FailoverSettings(result.GetValue(survivorArgument)!, result.GetValue(killPidOption), result.GetValue(gracefulOption), result.GetValue(roomOption),
    TimeSpan.FromSeconds(result.GetValue(giveUpOption)), TimeSpan.FromMilliseconds(result.GetValue(retryOption)), result.GetValue(failoverJsonOption))));
command.Subcommands.Add(failover);
command.SetAction((result, _) => RunAsync(new LoadSettings(result.GetValue(urlArgument)!, result.GetValue(sessionsArgument), result.GetValue(peersArgument),
    result.GetValue(secondsArgument), result.GetValue(pingArgument), TimeSpan.FromSeconds(result.GetValue(warmUpArgument)), result.GetValue(jsonOption))));
return await ToolCommandLine.RunAsync(command, args);

static async Task<int> RunAsync(LoadSettings settings)
{
    var url = settings.Url;
    var clients = new LoadClient?[settings.Sessions];
    var pingers = new List<Task>();
    var joinWatch = Stopwatch.StartNew();
    using (var joining = new CancellationTokenSource())
    {
        var progress = ToolCommandLine.ReportProgressAsync(() => $"joining: {JoinOutcome.Of(clients)}", joining.Token);
        using (var gate = new SemaphoreSlim(ConnectConcurrency))
        {
            await Task.WhenAll(Enumerable.Range(0, settings.Sessions).Select(async i =>
            {
                await gate.WaitAsync();
                LoadClient client;
                try { client = clients[i] = await LoadClient.JoinAsync(url, $"load-{i / settings.PeersPerRoom}"); }
                finally { gate.Release(); }
                if (client.Joined)
                {
                    lock (pingers) pingers.Add(client.PingLoopAsync(TimeSpan.FromMilliseconds(settings.PingMs)));
                }
            }));
        }
        joinWatch.Stop();
        await joining.CancelAsync();
        await progress;
    }
    var joinOutcome = JoinOutcome.Of(clients);
    var all = clients.Select(c => c!).ToArray();
    var joined = joinOutcome.Joined;
    Console.WriteLine($"joined {joined}/{settings.Sessions} sessions in {joinWatch.Elapsed.TotalSeconds:F1} s ({joined / joinWatch.Elapsed.TotalSeconds:F0} joins/s)");
    if (joinOutcome.Refused.Count > 0 || joinOutcome.Failed.Count > 0) Console.WriteLine($"not joined: {joinOutcome.Reasons()}");
    if (joined == 0)
    {
        Console.Error.WriteLine($"no session joined ({joinOutcome.Reasons()}); is the server running at {url}?");
        ToolCommandLine.WriteSummary(settings.Json, new { settings.Url, settings.Sessions, joined, refused = joinOutcome.Refused, failed = joinOutcome.Failed });
        return 1;
    }

    await Task.Delay(settings.WarmUp);
    // The tool is the measuring instrument: a collection of its own would show up as server latency. It allocates little
    // per ping, so it asks the runtime not to collect at all while it measures (and says below whether that held).
    var noGcRegion = TryStartNoGcRegion();
    using var http = new HttpClient { BaseAddress = new UriBuilder(url) { Scheme = url.Scheme == "wss" ? "https" : "http", Path = "/" }.Uri };
    var serverBefore = await ServerGc.ScrapeAsync(http);
    var pausesBefore = GC.GetTotalPauseDuration();
    var collectionsBefore = GC.CollectionCount(0);
    foreach (var client in all) client.Measuring = true;
    var measureWatch = Stopwatch.StartNew();
    using (var measuring = new CancellationTokenSource(TimeSpan.FromSeconds(settings.Seconds)))
    {
        // Counting, not sorting: the progress line must not allocate much while the no-GC region holds.
        await ToolCommandLine.ReportProgressAsync(() =>
            $"measuring: {measureWatch.Elapsed.TotalSeconds:F0}/{settings.Seconds} s, {all.Sum(c => c.RoundTrips.Count)} pings, {all.Sum(c => c.Failures)} failures",
            measuring.Token);
    }
    foreach (var client in all) client.Measuring = false;
    var pauses = GC.GetTotalPauseDuration() - pausesBefore;
    var collections = GC.CollectionCount(0) - collectionsBefore;
    var serverAfter = await ServerGc.ScrapeAsync(http);
    if (noGcRegion && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
    // Pings in flight finish; no request is cancelled half-way (that would abort its socket).
    foreach (var client in all) client.Stop();
    await Task.WhenAll(pingers);

    var rtts = all.SelectMany(c => c.RoundTrips).Order().ToArray();
    var alive = all.Count(c => c.Joined && c.Socket.State == WebSocketState.Open);
    double Percentile(double p) => rtts.Length == 0 ? double.NaN : rtts[Math.Min(rtts.Length - 1, (int)(p * rtts.Length))];
    Console.WriteLine($"sessions held at the end: {alive}");
    foreach (var group in all.Where(c => c.Joined && c.Socket.State != WebSocketState.Open).GroupBy(c => $"{c.Socket.State} {c.Socket.CloseStatus} {c.LastError}"))
        Console.WriteLine($"  not open: {group.Count()} x {group.Key}");
    Console.WriteLine($"pings: {rtts.Length}, failures: {all.Sum(c => c.Failures)}");
    Console.WriteLine($"ping round trip ms: p50 {Percentile(0.50):F2}  p90 {Percentile(0.90):F2}  p99 {Percentile(0.99):F2}  p99.9 {Percentile(0.999):F2}  max {(rtts.Length > 0 ? rtts[^1] : double.NaN):F2}");
    var serverBytesPerPing = (serverAfter.AllocatedBytes - serverBefore.AllocatedBytes) / Math.Max(1, rtts.Length);
    Console.WriteLine($"GC while measuring: server {serverAfter.Collections - serverBefore.Collections} collections, {(serverAfter.PauseSeconds - serverBefore.PauseSeconds) * 1000:F0} ms paused, " +
        $"{serverBytesPerPing:F0} bytes allocated per ping; load tool {collections} collections, {pauses.TotalMilliseconds:F0} ms paused");
    ToolCommandLine.WriteSummary(settings.Json, new
    {
        settings.Url, settings.Sessions, settings.PeersPerRoom, settings.Seconds, settings.PingMs, warmUpSeconds = settings.WarmUp.TotalSeconds,
        joined, refused = joinOutcome.Refused, failed = joinOutcome.Failed, joinSeconds = joinWatch.Elapsed.TotalSeconds,
        joinsPerSecond = joined / joinWatch.Elapsed.TotalSeconds, held = alive, pings = rtts.Length, pingFailures = all.Sum(c => c.Failures),
        roundTripMs = new { p50 = Percentile(0.50), p90 = Percentile(0.90), p99 = Percentile(0.99), p999 = Percentile(0.999), max = rtts.Length > 0 ? rtts[^1] : double.NaN },
        server = new { collections = serverAfter.Collections - serverBefore.Collections, pausedMs = (serverAfter.PauseSeconds - serverBefore.PauseSeconds) * 1000, bytesPerPing = serverBytesPerPing },
        loadTool = new { collections, pausedMs = pauses.TotalMilliseconds },
    });
    foreach (var client in all) client.Socket.Abort();
    return 0;
}

// False where the runtime cannot promise that much allocation without a collection (it then collects as usual).
static bool TryStartNoGcRegion()
{
    try { return GC.TryStartNoGCRegion(NoGcBudgetBytes); }
    catch (ArgumentOutOfRangeException) { return false; }
}

sealed class LoadClient
{
    private const int BufferBytes = 4096; // a join response for a room of ten fits; larger messages grow it
    private static readonly byte[] PingStart = Encoding.UTF8.GetBytes("{\"type\":\"ping\",\"id\":");
    private static readonly byte[] LastSeqField = Encoding.UTF8.GetBytes(",\"lastSeq\":");

    private readonly byte[] _request = new byte[128];
    private byte[] _buffer = new byte[BufferBytes];
    private readonly object _stopGate = new();
    private PeriodicTimer? _timer;
    private bool _stopped;
    private long _nextId;
    private long _lastSeq;

    private LoadClient(ClientWebSocket socket) => Socket = socket;

    public ClientWebSocket Socket { get; }
    public bool Joined { get; private set; }

    /// <summary>Round trips are recorded only while set (after every session joined and the warm-up).</summary>
    public volatile bool Measuring;
    public List<double> RoundTrips { get; } = new(64);
    public int Failures { get; private set; }
    public string? LastError { get; private set; }

    /// <summary>The error code of a join the server refused (<c>rate_limited</c>, <c>room_full</c>, ...).</summary>
    public string? RefusedWith { get; private set; }

    public static async Task<LoadClient> JoinAsync(Uri url, string room)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("sfu.v1");
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        var client = new LoadClient(socket);
        try
        {
            await socket.ConnectAsync(url, CancellationToken.None);
            var join = Encoding.UTF8.GetBytes($"{{\"id\":0,\"type\":\"join\",\"room\":\"{room}\",\"autoSubscribe\":false}}");
            await socket.SendAsync(join, WebSocketMessageType.Text, true, CancellationToken.None);
            var response = await client.ReadUntilResponseAsync(id: 0);
            client.Joined = response.Ok;
            if (!response.Ok) client.RefusedWith = response.ErrorCode ?? "no error code";
        }
        catch (Exception ex) when (ex is WebSocketException or IOException)
        {
            client.Failures++;
            client.LastError = ex.Message;
        }
        return client;
    }

    /// <summary>Pings every interval (a first one at a random point of the first interval, to spread the load).</summary>
    public async Task PingLoopAsync(TimeSpan interval)
    {
        try
        {
            await Task.Delay(Random.Shared.Next((int)interval.TotalMilliseconds));
            var timer = new PeriodicTimer(interval);
            lock (_stopGate)
            {
                // Stopped before the first ping: there is nothing to measure.
                if (_stopped)
                {
                    timer.Dispose();
                    return;
                }
                _timer = timer;
            }
            do
            {
                var started = Stopwatch.GetTimestamp();
                // Like a real client, the ping says what it has received, so the server can let go of it.
                var id = ++_nextId;
                await Socket.SendAsync(PingMessage(id), WebSocketMessageType.Text, true, CancellationToken.None);
                await ReadUntilResponseAsync(id);
                if (Measuring) RoundTrips.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            } while (await timer.WaitForNextTickAsync());
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or InvalidOperationException)
        {
            Failures++;
            LastError = ex.Message;
        }
    }

    /// <summary>Ends the ping loop after the round trip in flight, if any.</summary>
    public void Stop()
    {
        lock (_stopGate)
        {
            _stopped = true;
            _timer?.Dispose();
        }
    }

    private ReadOnlyMemory<byte> PingMessage(long id)
    {
        var span = _request.AsSpan();
        PingStart.CopyTo(span);
        var length = PingStart.Length;
        Utf8Formatter.TryFormat(id, span[length..], out var written);
        length += written;
        LastSeqField.CopyTo(span[length..]);
        length += LastSeqField.Length;
        Utf8Formatter.TryFormat(_lastSeq, span[length..], out written);
        length += written;
        span[length++] = (byte)'}';
        return _request.AsMemory(0, length);
    }

    /// <summary>Reads messages (events in between are skipped) until the response to <paramref name="id"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // one call per ping: no state machine allocated for it
    private async ValueTask<Envelope> ReadUntilResponseAsync(long id)
    {
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                if (length == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
                result = await Socket.ReceiveAsync(_buffer.AsMemory(length), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close) throw new WebSocketException("closed by server");
                length += result.Count;
            } while (!result.EndOfMessage);
            var envelope = Envelope.Read(_buffer.AsSpan(0, length));
            if (envelope.Seq > _lastSeq) _lastSeq = envelope.Seq;
            if (envelope.IsResponse && envelope.Id == id) return envelope;
        }
    }

    /// <summary>The envelope fields the load tool needs, read without building a document.</summary>
    private readonly record struct Envelope(bool IsResponse, long Id, long Seq, bool Ok, string? ErrorCode)
    {
        public static Envelope Read(ReadOnlySpan<byte> message)
        {
            var reader = new Utf8JsonReader(message);
            bool isResponse = false, ok = false;
            long id = -1, seq = 0;
            string? errorCode = null;
            reader.Read(); // the envelope object
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
            {
                var name = reader.ValueSpan;
                reader.Read();
                if (name.SequenceEqual("type"u8)) isResponse = reader.ValueTextEquals("response"u8);
                else if (name.SequenceEqual("id"u8) && reader.TokenType == JsonTokenType.Number) id = reader.GetInt64();
                else if (name.SequenceEqual("seq"u8)) seq = reader.GetInt64();
                else if (name.SequenceEqual("ok"u8)) ok = reader.TokenType == JsonTokenType.True;
                else if (name.SequenceEqual("error"u8) && reader.TokenType == JsonTokenType.StartObject) errorCode = ReadCode(ref reader);
                else reader.Skip();
            }
            return new Envelope(isResponse, id, seq, ok, errorCode);
        }

        /// <summary>The <c>code</c> of an error object; the reader ends on the object's end.</summary>
        private static string? ReadCode(ref Utf8JsonReader reader)
        {
            string? code = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isCode = reader.ValueTextEquals("code"u8);
                reader.Read();
                if (isCode && reader.TokenType == JsonTokenType.String) code = reader.GetString();
                else reader.Skip();
            }
            return code;
        }
    }
}

/// <summary>The command line, validated.</summary>
sealed record LoadSettings(Uri Url, int Sessions, int PeersPerRoom, int Seconds, int PingMs, TimeSpan WarmUp, FileInfo? Json);

/// <summary>How the joins went so far: joined, refused by the server (by error code) and failed (by error).</summary>
sealed record JoinOutcome(int Joined, SortedDictionary<string, int> Refused, SortedDictionary<string, int> Failed)
{
    /// <summary>Sessions not started yet (null) or still joining are not counted.</summary>
    public static JoinOutcome Of(IEnumerable<LoadClient?> clients)
    {
        var done = clients.Where(c => c is not null).Select(c => c!).ToList();
        return new JoinOutcome(done.Count(c => c.Joined),
            Count(done.Where(c => c.RefusedWith is not null).Select(c => c.RefusedWith!)),
            Count(done.Where(c => !c.Joined && c.RefusedWith is null).Select(c => c.LastError ?? "unknown")));
    }

    /// <summary>e.g. <c>refused 10 (rate_limited 10); failed 0</c>.</summary>
    public string Reasons() =>
        $"refused {Refused.Values.Sum()}{Detail(Refused)}; failed {Failed.Values.Sum()}{Detail(Failed)}";

    public override string ToString() => $"{Joined} joined, {Reasons()}";

    private static string Detail(SortedDictionary<string, int> counts) =>
        counts.Count == 0 ? "" : " (" + string.Join(", ", counts.Select(p => $"{p.Key} {p.Value}")) + ")";

    private static SortedDictionary<string, int> Count(IEnumerable<string> reasons) =>
        new(reasons.GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count()), StringComparer.Ordinal);
}

/// <summary>The server's garbage-collection totals, from the runtime's series on its /metrics.</summary>
readonly record struct ServerGc(long Collections, double PauseSeconds, double AllocatedBytes)
{
    public static async Task<ServerGc> ScrapeAsync(HttpClient http)
    {
        long collections = 0;
        double pause = 0, allocated = 0;
        foreach (var line in (await http.GetStringAsync("metrics")).Split('\n'))
        {
            var value = line[(line.LastIndexOf(' ') + 1)..];
            // Every collection is counted once, under the oldest generation it collected.
            if (line.StartsWith("dotnet_gc_collections_total{", StringComparison.Ordinal)) collections += long.Parse(value, CultureInfo.InvariantCulture);
            else if (line.StartsWith("dotnet_gc_pause_time_seconds_total ", StringComparison.Ordinal)) pause = double.Parse(value, CultureInfo.InvariantCulture);
            else if (line.StartsWith("dotnet_gc_heap_total_allocated_bytes_total ", StringComparison.Ordinal)) allocated = double.Parse(value, CultureInfo.InvariantCulture);
        }
        return new ServerGc(collections, pause, allocated);
    }
}
