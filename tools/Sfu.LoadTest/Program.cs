// Signaling load generator: opens N WebSocket sessions against a running server, joins them into rooms, and has
// each ping on the protocol's interval from the moment it joined (as real clients do, so nobody looks silent).
// Once every session has joined and a warm-up has passed, it records ping round trips for the measured period,
// then prints sessions held, join rate and round-trip percentiles, and its own garbage-collection pauses (a pause
// here delays every round trip in flight, so it is part of what the percentiles show).
// Usage: dotnet run -c Release --project tools/Sfu.LoadTest -- [url] [sessions] [peersPerRoom] [seconds] [pingMs] [warmUpSeconds]
// A short warm-up (the default, 3 s) puts the server's first collections after the burst of joins into the measured
// period; a longer one (30 s) measures the steady state (docs/BENCHMARKS.md shows both).
using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

var url = new Uri(args.ElementAtOrDefault(0) ?? "ws://127.0.0.1:8080/ws");
var sessions = int.Parse(args.ElementAtOrDefault(1) ?? "5000");
var peersPerRoom = int.Parse(args.ElementAtOrDefault(2) ?? "10");
var seconds = int.Parse(args.ElementAtOrDefault(3) ?? "30");
var pingMs = int.Parse(args.ElementAtOrDefault(4) ?? "1000");
const int ConnectConcurrency = 64;
const long NoGcBudgetBytes = 1024L * 1024 * 1024;

var warmUp = TimeSpan.FromSeconds(int.Parse(args.ElementAtOrDefault(5) ?? "3"));

var clients = new LoadClient[sessions];
var pingers = new List<Task>();
var joinWatch = Stopwatch.StartNew();
using (var gate = new SemaphoreSlim(ConnectConcurrency))
{
    await Task.WhenAll(Enumerable.Range(0, sessions).Select(async i =>
    {
        await gate.WaitAsync();
        try { clients[i] = await LoadClient.JoinAsync(url, $"load-{i / peersPerRoom}"); }
        finally { gate.Release(); }
        if (clients[i].Joined)
        {
            lock (pingers) pingers.Add(clients[i].PingLoopAsync(TimeSpan.FromMilliseconds(pingMs)));
        }
    }));
}
joinWatch.Stop();
var joined = clients.Count(c => c.Joined);
Console.WriteLine($"joined {joined}/{sessions} sessions in {joinWatch.Elapsed.TotalSeconds:F1} s ({joined / joinWatch.Elapsed.TotalSeconds:F0} joins/s)");
if (joined == 0)
{
    Console.Error.WriteLine($"no session joined ({clients.Select(c => c.LastError).FirstOrDefault(e => e is not null)}); is the server running at {url}?");
    return 1;
}

await Task.Delay(warmUp);
// The tool is the measuring instrument: a collection of its own would show up as server latency. It allocates little
// per ping, so it asks the runtime not to collect at all while it measures (and says below whether that held).
var noGcRegion = TryStartNoGcRegion();
using var http = new HttpClient { BaseAddress = new UriBuilder(url) { Scheme = url.Scheme == "wss" ? "https" : "http", Path = "/" }.Uri };
var serverBefore = await ServerGc.ScrapeAsync(http);
var pausesBefore = GC.GetTotalPauseDuration();
var collectionsBefore = GC.CollectionCount(0);
foreach (var client in clients) client.Measuring = true;
await Task.Delay(TimeSpan.FromSeconds(seconds));
foreach (var client in clients) client.Measuring = false;
var pauses = GC.GetTotalPauseDuration() - pausesBefore;
var collections = GC.CollectionCount(0) - collectionsBefore;
var serverAfter = await ServerGc.ScrapeAsync(http);
if (noGcRegion && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
// Pings in flight finish; no request is cancelled half-way (that would abort its socket).
foreach (var client in clients) client.Stop();
await Task.WhenAll(pingers);

var rtts = clients.SelectMany(c => c.RoundTrips).Order().ToArray();
var alive = clients.Count(c => c.Joined && c.Socket.State == WebSocketState.Open);
double Percentile(double p) => rtts.Length == 0 ? double.NaN : rtts[Math.Min(rtts.Length - 1, (int)(p * rtts.Length))];
Console.WriteLine($"sessions held at the end: {alive}");
foreach (var group in clients.Where(c => c.Joined && c.Socket.State != WebSocketState.Open).GroupBy(c => $"{c.Socket.State} {c.Socket.CloseStatus} {c.LastError}"))
    Console.WriteLine($"  not open: {group.Count()} x {group.Key}");
Console.WriteLine($"pings: {rtts.Length}, failures: {clients.Sum(c => c.Failures)}");
Console.WriteLine($"ping round trip ms: p50 {Percentile(0.50):F2}  p90 {Percentile(0.90):F2}  p99 {Percentile(0.99):F2}  p99.9 {Percentile(0.999):F2}  max {(rtts.Length > 0 ? rtts[^1] : double.NaN):F2}");
Console.WriteLine($"GC while measuring: server {serverAfter.Collections - serverBefore.Collections} collections, {(serverAfter.PauseSeconds - serverBefore.PauseSeconds) * 1000:F0} ms paused, " +
    $"{(serverAfter.AllocatedBytes - serverBefore.AllocatedBytes) / rtts.Length:F0} bytes allocated per ping; load tool {collections} collections, {pauses.TotalMilliseconds:F0} ms paused");
foreach (var client in clients) client.Socket.Abort();
return 0;

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
            client.Joined = await client.ReadUntilResponseAsync(id: 0);
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

    /// <summary>Reads messages (events in between are skipped) until the response to <paramref name="id"/>; its ok.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // one call per ping: no state machine allocated for it
    private async ValueTask<bool> ReadUntilResponseAsync(long id)
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
            if (envelope.IsResponse && envelope.Id == id) return envelope.Ok;
        }
    }

    /// <summary>The envelope fields the load tool needs, read without building a document.</summary>
    private readonly record struct Envelope(bool IsResponse, long Id, long Seq, bool Ok)
    {
        public static Envelope Read(ReadOnlySpan<byte> message)
        {
            var reader = new Utf8JsonReader(message);
            bool isResponse = false, ok = false;
            long id = -1, seq = 0;
            reader.Read(); // the envelope object
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
            {
                var name = reader.ValueSpan;
                reader.Read();
                if (name.SequenceEqual("type"u8)) isResponse = reader.ValueTextEquals("response"u8);
                else if (name.SequenceEqual("id"u8) && reader.TokenType == JsonTokenType.Number) id = reader.GetInt64();
                else if (name.SequenceEqual("seq"u8)) seq = reader.GetInt64();
                else if (name.SequenceEqual("ok"u8)) ok = reader.TokenType == JsonTokenType.True;
                else reader.Skip();
            }
            return new Envelope(isResponse, id, seq, ok);
        }
    }
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
