using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sfu.Client.Signaling;

/// <summary>
/// The signaling side of a client, as PROTOCOL.md describes it: one WebSocket (<c>sfu.v1</c>) at a time,
/// requests matched to responses by id, events delivered once each in <c>seq</c> order, <c>resume</c> on a
/// new socket after a drop, and a keep-alive <c>ping</c> carrying the last <c>seq</c> seen.
/// </summary>
/// <remarks>
/// Events are handed to <see cref="EventReceived"/> on one dispatch task, never on the socket's receive
/// loop, so a handler may send requests and await their responses.
/// </remarks>
public sealed class SignalingClient : IAsyncDisposable
{
    public const string SubProtocol = "sfu.v1";

    private readonly Uri _uri;
    private readonly Func<Socket> _createSocket;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly EventLog _events = new();
    private readonly CancellationTokenSource _stopping = new();
    private ClientWebSocket? _socket;
    private long _nextId;
    private long _lastSeq;
    private Task? _pingLoop;

    private SignalingClient(Uri uri, Func<Socket> createSocket)
    {
        _uri = uri;
        _createSocket = createSocket;
    }

    /// <summary>Raised for each new event, in seq order, on the dispatch task.</summary>
    public event Action<SignalingEvent>? EventReceived;

    /// <summary>The highest <c>seq</c> received; what <c>resume</c> and <c>ping</c> send.</summary>
    public long LastSeq => Interlocked.Read(ref _lastSeq);

    /// <summary>Times a <c>seq</c> arrived that was more than one above the previous one (should stay 0).</summary>
    public int SeqGaps { get; private set; }

    public string? SessionId { get; private set; }

    public string? ResumeToken { get; private set; }

    public string? PeerId { get; private set; }

    /// <summary>
    /// TURN servers with credentials for this peer, from the latest join or resume response; empty when the server offers
    /// none. This client's own ICE agent does not relay through TURN: the list is for applications that use another stack.
    /// </summary>
    public IReadOnlyList<IceServer> IceServers { get; private set; } = [];

    /// <summary>The join response, once joined.</summary>
    public JsonElement? JoinResponse { get; private set; }

    /// <summary>Completes with the close status when the server closes the current socket (null if it broke).</summary>
    public Task<WebSocketCloseStatus?> Closed { get; private set; } = Task.FromResult<WebSocketCloseStatus?>(null);

    /// <summary>Every event delivered so far, in order.</summary>
    public IReadOnlyList<SignalingEvent> Events => _events.Snapshot();

    /// <param name="uri">The server's <c>ws://host:port/ws</c>.</param>
    /// <param name="localAddress">Local IP to bind the TCP connection to (127.0.0.2, an address in a namespace).</param>
    public static Task<SignalingClient> ConnectAsync(Uri uri, string? localAddress = null, CancellationToken cancellation = default) =>
        ConnectAsync(uri, () => NewTcpSocket(localAddress), cancellation);

    /// <param name="uri">The server's <c>ws://host:port/ws</c>.</param>
    /// <param name="createSocket">Makes each TCP socket, unconnected: the first one and each one <see cref="ResumeAsync"/>
    /// opens. A socket belongs to the network namespace it was created in, so a test can put the client inside one.</param>
    public static async Task<SignalingClient> ConnectAsync(Uri uri, Func<Socket> createSocket, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(createSocket);
        var client = new SignalingClient(uri, createSocket);
        await client.OpenSocketAsync(cancellation);
        _ = client.DispatchLoopAsync();
        return client;
    }

    /// <summary>Joins a room; starts the keep-alive ping at the interval the server asked for.</summary>
    public async Task<JsonElement> JoinAsync(string room, string? name = null, bool autoSubscribe = true, string? token = null)
    {
        var response = await RequestAsync("join", new JsonObject { ["room"] = room, ["name"] = name, ["autoSubscribe"] = autoSubscribe, ["token"] = token });
        SessionId = response.GetProperty("sessionId").GetString();
        ResumeToken = response.GetProperty("resumeToken").GetString();
        PeerId = response.GetProperty("peerId").GetString();
        JoinResponse = response;
        IceServers = IceServer.ListFrom(response);
        var interval = response.TryGetProperty("timing", out var timing) && timing.TryGetProperty("pingIntervalMs", out var ms) ? ms.GetInt32() : 1000;
        _pingLoop ??= PingLoopAsync(TimeSpan.FromMilliseconds(interval));
        return response;
    }

    /// <summary>
    /// Drops the current socket without a close frame (if still open), opens a new one and resumes the
    /// session with <see cref="LastSeq"/>; the server then replays what was missed, in order.
    /// </summary>
    public async Task<JsonElement> ResumeAsync(CancellationToken cancellation = default)
    {
        if (SessionId is null || ResumeToken is null)
        {
            throw new InvalidOperationException("resume needs a session: join first");
        }

        _socket?.Abort();
        await OpenSocketAsync(cancellation);
        var response = await RequestAsync("resume", new JsonObject { ["sessionId"] = SessionId, ["resumeToken"] = ResumeToken, ["lastSeq"] = LastSeq });
        // Fresh credentials: the ones from the join may have expired during a long call.
        if (response.TryGetProperty("iceServers", out _)) IceServers = IceServer.ListFrom(response);
        return response;
    }

    /// <summary>Drops the TCP connection without a close frame, like a network that vanished.</summary>
    public void Abort() => _socket?.Abort();

    public Task<JsonElement> PingAsync() => RequestAsync("ping", new JsonObject { ["lastSeq"] = LastSeq });

    /// <summary>Sends the publish offer; returns the answer SDP.</summary>
    public async Task<string> PublishAsync(string offerSdp) =>
        (await RequestAsync("publish", new JsonObject { ["sdp"] = offerSdp })).GetProperty("sdp").GetString()!;

    public Task<JsonElement> SubscribeAnswerAsync(string answerSdp, long version) =>
        RequestAsync("subscribe-answer", new JsonObject { ["sdp"] = answerSdp, ["version"] = version });

    public Task<JsonElement> RestartIceAsync(string transport = "subscribe") =>
        RequestAsync("restart-ice", new JsonObject { ["transport"] = transport });

    public Task<JsonElement> SimulateAsync(string scenario, int? durationMs = null) =>
        RequestAsync("simulate", new JsonObject { ["scenario"] = scenario, ["durationMs"] = durationMs });

    public Task<JsonElement> LeaveAsync() => RequestAsync("leave", new JsonObject());

    /// <summary>
    /// Sends a request with a fresh id and returns the response's fields; throws <see cref="SignalingException"/>
    /// when the server answers <c>ok: false</c>.
    /// </summary>
    public async Task<JsonElement> RequestAsync(string type, JsonObject fields, TimeSpan? timeout = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var key = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        fields["id"] = id;
        fields["type"] = type;
        foreach (var nullField in fields.Where(f => f.Value is null).Select(f => f.Key).ToList())
        {
            fields.Remove(nullField);
        }

        var completion = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[key] = completion;
        try
        {
            await SendTextAsync(fields.ToJsonString());
            var response = await completion.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(10));
            if (!response.GetProperty("ok").GetBoolean())
            {
                var error = response.GetProperty("error");
                throw new SignalingException(type, error.GetProperty("code").GetString() ?? "", error.TryGetProperty("message", out var m) ? m.GetString() : null);
            }

            return response;
        }
        finally
        {
            _pending.TryRemove(key, out _);
        }
    }

    /// <summary>The first event named <paramref name="name"/> (matching <paramref name="match"/>) delivered after <paramref name="afterSeq"/>.</summary>
    public Task<SignalingEvent> WaitForEventAsync(string name, Func<SignalingEvent, bool>? match = null, long afterSeq = 0, TimeSpan? timeout = null) =>
        _events.WaitAsync(e => e.Name == name && e.Seq > afterSeq && (match?.Invoke(e) ?? true), timeout ?? TimeSpan.FromSeconds(10));

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _socket?.Abort();
        _socket?.Dispose();
        _events.Complete();
        if (_pingLoop is not null)
        {
            await _pingLoop.ConfigureAwait(false);
        }
    }

    private async Task OpenSocketAsync(CancellationToken cancellation)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(SubProtocol);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, token) =>
            {
                var tcp = _createSocket();
                tcp.NoDelay = true;
                await tcp.ConnectAsync(context.DnsEndPoint, token);
                return new NetworkStream(tcp, ownsSocket: true);
            },
        };
        await socket.ConnectAsync(_uri, new HttpMessageInvoker(handler), cancellation);
        _socket = socket;
        var closed = new TaskCompletionSource<WebSocketCloseStatus?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Closed = closed.Task;
        _ = ReceiveLoopAsync(socket, closed);
    }

    private static Socket NewTcpSocket(string? localAddress)
    {
        var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp);
        if (localAddress is not null)
        {
            tcp.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
        }

        return tcp;
    }

    private async Task SendTextAsync(string text)
    {
        var socket = _socket ?? throw new InvalidOperationException("not connected");
        await _sendGate.WaitAsync();
        try
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sendGate.Release();
        }
    }

    private async Task ReceiveLoopAsync(ClientWebSocket socket, TaskCompletionSource<WebSocketCloseStatus?> closed)
    {
        var buffer = new byte[128 * 1024];
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    closed.TrySetResult(socket.CloseStatus);
                    if (socket.State == WebSocketState.CloseReceived)
                    {
                        await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                    }

                    return;
                }

                using var document = JsonDocument.Parse(buffer.AsMemory(0, length));
                Handle(document.RootElement.Clone());
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or JsonException)
        {
            closed.TrySetResult(null);
        }
    }

    private void Handle(JsonElement message)
    {
        var type = message.GetProperty("type").GetString();
        long? seq = message.TryGetProperty("seq", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : null;

        // A seq already seen is a replayed or repeated message: PROTOCOL.md says to ignore it, but a response
        // is still delivered to a request that may be waiting for it (a repeated request gets its old answer).
        bool fresh = seq is null || seq > LastSeq;
        if (seq is { } value && fresh)
        {
            if (LastSeq != 0 && value != LastSeq + 1)
            {
                SeqGaps++;
            }

            Interlocked.Exchange(ref _lastSeq, value);
        }

        if (type == "response")
        {
            var id = message.TryGetProperty("id", out var idElement) ? idElement.ToString() : "";
            if (_pending.TryGetValue(id, out var completion))
            {
                completion.TrySetResult(message);
            }
        }
        else if (type == "event" && fresh)
        {
            _events.Add(new SignalingEvent(message.GetProperty("event").GetString() ?? "", seq ?? 0, message));
        }
    }

    private async Task DispatchLoopAsync()
    {
        await foreach (var e in _events.ReadAllAsync())
        {
            try
            {
                EventReceived?.Invoke(e);
            }
            catch (Exception)
            {
                // A failing handler must not stop later events from being delivered.
            }
        }
    }

    private async Task PingLoopAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                try
                {
                    if (_socket?.State == WebSocketState.Open)
                    {
                        await PingAsync();
                    }
                }
                catch (Exception e) when (e is SignalingException or TimeoutException or WebSocketException or InvalidOperationException)
                {
                    // The socket went away; the owner decides when to resume.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
