using System.Collections.Concurrent;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sfu.MediaLoad.Janus;

/// <summary>
/// One Janus session over its WebSocket API (subprotocol <c>janus-protocol</c>): requests matched to replies by
/// transaction, plugin messages that are answered later by an event carrying the same transaction, and a keepalive
/// every 25 s (Janus drops a session after 60 s of silence). Disposing destroys the session and closes the socket.
/// </summary>
sealed class JanusConnection : IAsyncDisposable
{
    public const string SubProtocol = "janus-protocol";

    private const int MaxMessageBytes = 1 << 20;
    private static readonly TimeSpan ReplyLimit = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan KeepaliveInterval = TimeSpan.FromSeconds(25);
    private readonly ClientWebSocket _socket;
    private readonly ConcurrentDictionary<string, Pending> _pending = new();
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _receiving;
    private Timer? _keepalive;
    private long _transaction;

    private JanusConnection(ClientWebSocket socket)
    {
        _socket = socket;
        _receiving = ReceiveLoopAsync();
    }

    public long SessionId { get; private set; }

    /// <summary>Opens the WebSocket and creates a session on it.</summary>
    public static async Task<JanusConnection> OpenSessionAsync(Uri uri, CancellationToken cancel)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(SubProtocol);
        try
        {
            await socket.ConnectAsync(uri, cancel);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var connection = new JanusConnection(socket);
        try
        {
            var created = await connection.RequestAsync(new JsonObject { ["janus"] = "create" }, untilEvent: false, cancel);
            connection.SessionId = created.GetProperty("data").GetProperty("id").GetInt64();
            connection._keepalive = new Timer(_ => _ = connection.SendQuietlyAsync(new JsonObject { ["janus"] = "keepalive" }), null, KeepaliveInterval, KeepaliveInterval);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Attaches a plugin handle to the session.</summary>
    public async Task<long> AttachAsync(string plugin, CancellationToken cancel)
    {
        var attached = await RequestAsync(new JsonObject { ["janus"] = "attach", ["plugin"] = plugin }, untilEvent: false, cancel);
        return attached.GetProperty("data").GetProperty("id").GetInt64();
    }

    /// <summary>
    /// Sends <paramref name="body"/> (and <paramref name="jsep"/>) to a plugin handle. A synchronous request is answered
    /// by <c>success</c>; an asynchronous one by <c>ack</c>, then an <c>event</c> with the result.
    /// </summary>
    /// <returns>The plugin's data and the JSEP that came with it, if any.</returns>
    public async Task<(JsonElement Data, JsonElement? Jsep)> MessageAsync(long handle, JsonObject body, JsonObject? jsep, bool asynchronous, CancellationToken cancel)
    {
        var message = new JsonObject { ["janus"] = "message", ["handle_id"] = handle, ["body"] = body };
        if (jsep is not null)
        {
            message["jsep"] = jsep;
        }

        var reply = await RequestAsync(message, asynchronous, cancel);
        var data = reply.GetProperty("plugindata").GetProperty("data");
        if (data.TryGetProperty("error", out var error))
        {
            throw new JanusException($"{body["request"]}: {error.GetString()} ({(data.TryGetProperty("error_code", out var code) ? code.GetInt32() : 0)})");
        }

        return (data, reply.TryGetProperty("jsep", out var answer) ? answer : null);
    }

    /// <summary>Tells Janus that the handle's candidates are all known (they are in its SDP already).</summary>
    public Task TrickleCompletedAsync(long handle, CancellationToken cancel) =>
        RequestAsync(new JsonObject { ["janus"] = "trickle", ["handle_id"] = handle, ["candidate"] = new JsonObject { ["completed"] = true } }, untilEvent: false, cancel);

    public async ValueTask DisposeAsync()
    {
        _keepalive?.Dispose();
        try
        {
            if (SessionId != 0 && _socket.State == WebSocketState.Open)
            {
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await RequestAsync(new JsonObject { ["janus"] = "destroy" }, untilEvent: false, limit.Token);
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, limit.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or JanusException or IOException or TimeoutException)
        {
        }
        finally
        {
            await _closing.CancelAsync();
            _socket.Abort();
            await _receiving;
            _socket.Dispose();
            _closing.Dispose();
            _sending.Dispose();
        }
    }

    private async Task<JsonElement> RequestAsync(JsonObject message, bool untilEvent, CancellationToken cancel)
    {
        var transaction = Interlocked.Increment(ref _transaction).ToString(CultureInfo.InvariantCulture);
        var pending = new Pending(untilEvent);
        _pending[transaction] = pending;
        try
        {
            message["transaction"] = transaction;
            await SendAsync(message, cancel);
            var reply = await pending.Reply.Task.WaitAsync(ReplyLimit, cancel);
            if (reply.GetProperty("janus").GetString() == "error")
            {
                var error = reply.GetProperty("error");
                throw new JanusException($"{message["janus"]}: {error.GetProperty("reason").GetString()} ({error.GetProperty("code").GetInt32()})");
            }

            return reply;
        }
        finally
        {
            _pending.TryRemove(transaction, out _);
        }
    }

    private async Task SendQuietlyAsync(JsonObject message)
    {
        try
        {
            message["transaction"] = "keepalive-" + Interlocked.Increment(ref _transaction).ToString(CultureInfo.InvariantCulture);
            await SendAsync(message, _closing.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private async Task SendAsync(JsonObject message, CancellationToken cancel)
    {
        if (SessionId != 0)
        {
            message["session_id"] = SessionId;
        }

        var bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        await _sending.WaitAsync(cancel);
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancel);
        }
        finally
        {
            _sending.Release();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[16384];
        var message = new MemoryStream();
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                var received = await _socket.ReceiveAsync(buffer, _closing.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                if (message.Length + received.Count > MaxMessageBytes)
                {
                    throw new JanusException($"a message over {MaxMessageBytes} bytes");
                }

                message.Write(buffer, 0, received.Count);
                if (received.EndOfMessage)
                {
                    Dispatch(message.ToArray());
                    message.SetLength(0);
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or JanusException or JsonException)
        {
            foreach (var pending in _pending.Values)
            {
                pending.Reply.TrySetException(e);
            }

            return;
        }

        foreach (var pending in _pending.Values)
        {
            pending.Reply.TrySetException(new JanusException("the WebSocket closed"));
        }
    }

    /// <summary>Completes the request the message answers; events without a request (webrtcup, media, hangup) need nothing.</summary>
    private void Dispatch(byte[] text)
    {
        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        if (!root.TryGetProperty("transaction", out var transaction) || transaction.GetString() is not { } id || !_pending.TryGetValue(id, out var pending))
        {
            return;
        }

        var kind = root.GetProperty("janus").GetString();
        if (kind == "ack" && pending.UntilEvent)
        {
            return;
        }

        pending.Reply.TrySetResult(root.Clone());
    }

    private sealed class Pending(bool untilEvent)
    {
        public bool UntilEvent { get; } = untilEvent;

        public TaskCompletionSource<JsonElement> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>Janus refused a request, or its connection failed.</summary>
sealed class JanusException(string message) : Exception(message);
