using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Sfu.Tools;

/// <summary>
/// How long a room takes to come back after its node is killed. A client joins a room through one node (the survivor)
/// while the room lives on another (so the survivor relays it); the other node gets SIGKILL; then the client does what
/// the SDKs do on a lost socket: resume through the survivor, join again when the session went with its node, and try
/// again every <see cref="FailoverSettings.RetryInterval"/> while the survivor still answers 1001 (the dead node's room
/// lease has not expired yet). The figure is the time from the kill to the client's successful join or resume. With
/// <see cref="FailoverSettings.Graceful"/> the node gets SIGTERM instead, and hands its rooms over as it leaves.
/// </summary>
static class Failover
{
    private static readonly TimeSpan SetUpWait = TimeSpan.FromSeconds(20);

    public static async Task<int> RunAsync(FailoverSettings settings)
    {
        using var giveUp = new CancellationTokenSource(SetUpWait + settings.GiveUp);
        var cancel = giveUp.Token;
        using var http = new HttpClient { BaseAddress = new UriBuilder(settings.Survivor) { Scheme = settings.Survivor.Scheme == "wss" ? "https" : "http", Path = "/" }.Uri };
        try
        {
            var (client, room, joined) = await JoinThroughRelayAsync(settings, http, cancel);
            await using var _ = client;
            Signal(settings.KillPid, settings.Graceful);
            var killedAt = Stopwatch.GetTimestamp();
            giveUp.CancelAfter(settings.GiveUp);
            await client.WaitClosedAsync(cancel);
            var droppedMs = Stopwatch.GetElapsedTime(killedAt).TotalMilliseconds;

            var (how, refused) = await ComeBackAsync(settings, room, joined, cancel);
            var backMs = Stopwatch.GetElapsedTime(killedAt).TotalMilliseconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"back in room '{room}' {backMs:F0} ms after {SignalName(settings.Graceful)} ({how}; the relayed socket dropped after {droppedMs:F0} ms, {refused} attempts refused before)"));
            ToolCommandLine.WriteSummary(settings.Json, new { mode = "failover", settings.Survivor, signal = SignalName(settings.Graceful), room, how, backMs, droppedMs, refusedAttempts = refused, retryMs = settings.RetryInterval.TotalMilliseconds });
            return 0;
        }
        catch (OperationCanceledException)
        {
            return Fail($"not back in the room within {settings.GiveUp.TotalSeconds:F0} s of the kill");
        }
        catch (Exception e) when (e is FailoverException or WebSocketException or HttpRequestException or ArgumentException)
        {
            // ArgumentException: no process with --kill-pid.
            return Fail(e.Message);
        }
    }

    /// <summary>Resume, else join again, through the survivor, until one succeeds; how it came back and the attempts refused before.</summary>
    private static async Task<(string How, int Refused)> ComeBackAsync(FailoverSettings settings, string room, JsonElement joined, CancellationToken cancel)
    {
        for (var refused = 0; ; refused++)
        {
            await using (var client = await FailoverClient.ConnectAsync(settings.Survivor, cancel))
            {
                var resume = await client.RequestAsync(new
                {
                    type = "resume",
                    sessionId = joined.GetProperty("sessionId").GetString(),
                    resumeToken = joined.GetProperty("resumeToken").GetString(),
                    lastSeq = joined.GetProperty("seq").GetInt64(),
                }, cancel);
                if (resume is { } r && r.GetProperty("ok").GetBoolean()) return ("resumed", refused);
            }
            // The session lived on the dead node: a fresh socket joins again, as the SDKs do after session_expired.
            await using (var client = await FailoverClient.ConnectAsync(settings.Survivor, cancel))
            {
                var join = await client.RequestAsync(new { type = "join", room, name = "failover", autoSubscribe = false }, cancel);
                if (join is { } j && j.GetProperty("ok").GetBoolean()) return ("rejoined", refused);
            }
            await Task.Delay(settings.RetryInterval, cancel);
        }
    }

    /// <summary>
    /// Joins a fresh room through the survivor until one opens on the other node (the survivor relays the socket). A
    /// room opens on the survivor itself while it does not know the other node yet (it just started); that room is
    /// left, and closes empty.
    /// </summary>
    private static async Task<(FailoverClient Client, string Room, JsonElement Joined)> JoinThroughRelayAsync(FailoverSettings settings, HttpClient http, CancellationToken cancel)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(SetUpWait.TotalSeconds * Stopwatch.Frequency);
        for (var attempt = 1; ; attempt++)
        {
            var room = $"{settings.Room ?? $"failover-{Environment.ProcessId}"}-{attempt}";
            var client = await FailoverClient.ConnectAsync(settings.Survivor, cancel);
            var join = await client.RequestAsync(new { type = "join", room, name = "failover", autoSubscribe = false }, cancel);
            if (join is not { } joined || !joined.GetProperty("ok").GetBoolean())
            {
                await client.DisposeAsync();
                throw new FailoverException($"the join failed: {join?.ToString() ?? "socket closed"}");
            }
            if (await RelayedSocketsAsync(http, cancel) > 0) return (client, room, joined);
            await client.DisposeAsync();
            if (Stopwatch.GetTimestamp() > deadline)
                throw new FailoverException("every room opened on the survivor itself (sfu_cluster_relayed_sockets stayed 0): is the node to kill alive and in the same cluster?");
            await Task.Delay(500, cancel);
        }
    }

    private static async Task<double> RelayedSocketsAsync(HttpClient http, CancellationToken cancel)
    {
        const string Series = "sfu_cluster_relayed_sockets ";
        var line = (await http.GetStringAsync("metrics", cancel)).Split('\n').FirstOrDefault(l => l.StartsWith(Series, StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[Series.Length..], CultureInfo.InvariantCulture);
    }

    /// <summary>SIGTERM (the node's graceful shutdown: it leaves the cluster, then closes its sockets with 1001) or SIGKILL (a crash).</summary>
    private static void Signal(int pid, bool graceful)
    {
        using var victim = Process.GetProcessById(pid);
        if (!graceful)
        {
            victim.Kill();
            return;
        }
        using var kill = Process.Start("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        if (kill.ExitCode != 0) throw new FailoverException($"kill -TERM {pid} failed with {kill.ExitCode}");
    }

    private static string SignalName(bool graceful) => graceful ? "SIGTERM" : "SIGKILL";

    private static int Fail(string reason)
    {
        Console.Error.WriteLine($"failover: {reason}");
        return 1;
    }
}

/// <summary>The measurement cannot be made; the message says why.</summary>
sealed class FailoverException(string message) : Exception(message);

/// <summary>The failover mode's command line, validated.</summary>
sealed record FailoverSettings(Uri Survivor, int KillPid, bool Graceful, string? Room, TimeSpan GiveUp, TimeSpan RetryInterval, FileInfo? Json);

/// <summary>One signaling socket, one request at a time, its response read whole (events in between skipped).</summary>
sealed class FailoverClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private byte[] _buffer = new byte[16 * 1024];
    private long _nextId;

    private FailoverClient() => _socket.Options.AddSubProtocol("sfu.v1");

    public static async Task<FailoverClient> ConnectAsync(Uri url, CancellationToken cancel)
    {
        var client = new FailoverClient();
        try
        {
            await client._socket.ConnectAsync(url, cancel);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>The response to <paramref name="request"/> (an object with a <c>type</c>), or null when the socket ends first.</summary>
    public async Task<JsonElement?> RequestAsync(object request, CancellationToken cancel)
    {
        var id = ++_nextId;
        var fields = JsonSerializer.SerializeToNode(request)!.AsObject();
        fields["id"] = id;
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(fields.ToJsonString()), WebSocketMessageType.Text, true, cancel);
            while (await ReadAsync(cancel) is { } message)
            {
                if (message.GetProperty("type").GetString() == "response" && message.TryGetProperty("id", out var answered) && answered.GetInt64() == id) return message;
            }
        }
        catch (WebSocketException)
        {
            // The relay dropped the socket without a close frame: the same answer as a close.
        }
        return null;
    }

    /// <summary>Reads (and skips) whatever arrives until the socket ends, cleanly or not.</summary>
    public async Task WaitClosedAsync(CancellationToken cancel)
    {
        try
        {
            while (await ReadAsync(cancel) is not null) { }
        }
        catch (WebSocketException) { }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>One whole message, or null at a close frame.</summary>
    private async Task<JsonElement?> ReadAsync(CancellationToken cancel)
    {
        var length = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            if (length == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            result = await _socket.ReceiveAsync(_buffer.AsMemory(length), cancel);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            length += result.Count;
        } while (!result.EndOfMessage);
        using var document = JsonDocument.Parse(_buffer.AsMemory(0, length));
        return document.RootElement.Clone();
    }
}
