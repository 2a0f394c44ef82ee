// Signaling load generator: opens N WebSocket sessions against a running server, joins them into rooms, and has
// each ping on the protocol's interval from the moment it joined (as real clients do, so nobody looks silent).
// Once every session has joined and a warm-up has passed, it records ping round trips for the measured period,
// then prints sessions held, join rate and round-trip percentiles.
// Usage: dotnet run -c Release --project tools/Sfu.LoadTest -- [url] [sessions] [peersPerRoom] [seconds] [pingMs]
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

var url = new Uri(args.ElementAtOrDefault(0) ?? "ws://127.0.0.1:8080/ws");
var sessions = int.Parse(args.ElementAtOrDefault(1) ?? "5000");
var peersPerRoom = int.Parse(args.ElementAtOrDefault(2) ?? "10");
var seconds = int.Parse(args.ElementAtOrDefault(3) ?? "30");
var pingMs = int.Parse(args.ElementAtOrDefault(4) ?? "1000");
const int ConnectConcurrency = 64;

var warmUp = TimeSpan.FromSeconds(3);

var clients = new LoadClient[sessions];
var pingers = new List<Task>();
using var stop = new CancellationTokenSource();
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
            lock (pingers) pingers.Add(clients[i].PingLoopAsync(pingMs, stop.Token));
        }
    }));
}
joinWatch.Stop();
var joined = clients.Count(c => c.Joined);
Console.WriteLine($"joined {joined}/{sessions} sessions in {joinWatch.Elapsed.TotalSeconds:F1} s ({joined / joinWatch.Elapsed.TotalSeconds:F0} joins/s)");

await Task.Delay(warmUp);
foreach (var client in clients) client.Measuring = true;
stop.CancelAfter(TimeSpan.FromSeconds(seconds));
await Task.WhenAll(pingers);

var rtts = clients.SelectMany(c => c.RoundTrips).Order().ToArray();
var alive = clients.Count(c => c.Joined && c.Socket.State == WebSocketState.Open);
double Percentile(double p) => rtts.Length == 0 ? double.NaN : rtts[Math.Min(rtts.Length - 1, (int)(p * rtts.Length))];
Console.WriteLine($"sessions held at the end: {alive}");
foreach (var group in clients.Where(c => c.Joined && c.Socket.State != WebSocketState.Open).GroupBy(c => $"{c.Socket.State} {c.Socket.CloseStatus} {c.LastError}"))
    Console.WriteLine($"  not open: {group.Count()} x {group.Key}");
Console.WriteLine($"pings: {rtts.Length}, failures: {clients.Sum(c => c.Failures)}");
Console.WriteLine($"ping round trip ms: p50 {Percentile(0.50):F2}  p90 {Percentile(0.90):F2}  p99 {Percentile(0.99):F2}  max {(rtts.Length > 0 ? rtts[^1] : double.NaN):F2}");
foreach (var client in clients) client.Socket.Abort();

sealed class LoadClient
{
    private readonly byte[] _buffer = new byte[16 * 1024]; // under the large-object heap threshold
    private long _nextId;
    private long _lastSeq;

    private LoadClient(ClientWebSocket socket) => Socket = socket;

    public ClientWebSocket Socket { get; }
    public bool Joined { get; private set; }

    /// <summary>Round trips are recorded only while set (after every session joined and the warm-up).</summary>
    public volatile bool Measuring;
    public List<double> RoundTrips { get; } = [];
    public int Failures { get; private set; }

    public static async Task<LoadClient> JoinAsync(Uri url, string room)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("sfu.v1");
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        var client = new LoadClient(socket);
        try
        {
            await socket.ConnectAsync(url, CancellationToken.None);
            var response = await client.RequestAsync($"{{\"type\":\"join\",\"room\":\"{room}\",\"autoSubscribe\":false}}", CancellationToken.None);
            client.Joined = response.GetProperty("ok").GetBoolean();
        }
        catch (Exception ex) when (ex is WebSocketException or IOException)
        {
            client.Failures++;
        }
        return client;
    }

    public async Task PingLoopAsync(int intervalMs, CancellationToken stop)
    {
        // Spread the first pings over one interval so the load is even, as real clients' would be.
        try
        {
            await Task.Delay(Random.Shared.Next(intervalMs), stop);
            while (!stop.IsCancellationRequested)
            {
                var watch = Stopwatch.StartNew();
                // Like a real client, the ping says what it has received, so the server can let go of it.
                await RequestAsync($"{{\"type\":\"ping\",\"lastSeq\":{_lastSeq}}}", stop);
                if (Measuring) RoundTrips.Add(watch.Elapsed.TotalMilliseconds);
                await Task.Delay(intervalMs, stop);
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception ex) when (ex is WebSocketException or IOException or InvalidOperationException)
        {
            Failures++;
            LastError = ex.Message;
        }
    }

    public string? LastError { get; private set; }

    /// <summary>Sends a request and reads until its response (events in between are skipped).</summary>
    private async Task<JsonElement> RequestAsync(string body, CancellationToken cancel)
    {
        var id = ++_nextId;
        var text = $"{{\"id\":{id},{body[1..]}";
        await Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cancel);
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await Socket.ReceiveAsync(_buffer.AsMemory(length), cancel);
                if (result.MessageType == WebSocketMessageType.Close) throw new WebSocketException("closed by server");
                length += result.Count;
            } while (!result.EndOfMessage);
            var message = JsonDocument.Parse(_buffer.AsMemory(0, length)).RootElement;
            if (message.TryGetProperty("seq", out var seq)) _lastSeq = Math.Max(_lastSeq, seq.GetInt64());
            if (message.GetProperty("type").GetString() == "response" && message.GetProperty("id").GetInt64() == id) return message.Clone();
        }
    }
}
