using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Sfu.Tests.Infrastructure;

/// <summary>
/// A signaling client over a real <see cref="ClientWebSocket"/>. It records every message in arrival order;
/// tests read them in that order (<see cref="NextAsync"/>) or pick a response by id (<see cref="RequestAsync"/>)
/// without disturbing the order of the rest.
/// </summary>
public sealed class TestClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(10);

    private readonly ClientWebSocket _socket;
    private readonly List<JsonElement> _pending = [];
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly object _gate = new();
    private readonly TaskCompletionSource<WebSocketCloseStatus?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextId;

    private TestClient(ClientWebSocket socket)
    {
        _socket = socket;
        _ = ReceiveLoopAsync();
    }

    /// <summary>Every message received so far, in order, including those already read.</summary>
    public List<JsonElement> History { get; } = [];

    public string? SubProtocol => _socket.SubProtocol;

    /// <summary>Completes with the close code when the server closes the socket (null when it just broke).</summary>
    public Task<WebSocketCloseStatus?> Closed => _closed.Task;

    /// <param name="localAddress">Binds the TCP connection to this local address (e.g. 127.0.0.2), to come from "another place".</param>
    public static async Task<TestClient> ConnectAsync(Uri uri, string? localAddress = null, string? subProtocol = "sfu.v1")
    {
        var socket = new ClientWebSocket();
        if (subProtocol is not null) socket.Options.AddSubProtocol(subProtocol);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellation) =>
            {
                var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                if (localAddress is not null) tcp.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
                await tcp.ConnectAsync(context.DnsEndPoint, cancellation);
                return new NetworkStream(tcp, ownsSocket: true);
            },
        };
        await socket.ConnectAsync(uri, new HttpMessageInvoker(handler), CancellationToken.None);
        return new TestClient(socket);
    }

    public Task SendAsync(object request) => SendTextAsync(JsonSerializer.Serialize(request));

    public Task SendTextAsync(string text) => SendBytesAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public async Task SendBytesAsync(byte[] bytes, WebSocketMessageType type)
    {
        await _socket.SendAsync(bytes, type, endOfMessage: true, CancellationToken.None);
    }

    /// <summary>Sends <paramref name="request"/> with a fresh numeric id and returns the response to it.</summary>
    public async Task<JsonElement> RequestAsync(object request)
    {
        var id = Interlocked.Increment(ref _nextId) + 1000;
        var body = JsonSerializer.SerializeToNode(request)!.AsObject();
        body["id"] = id;
        await SendTextAsync(body.ToJsonString());
        return await TakeAsync(m => IsResponseTo(m, id), $"response to request {id}");
    }

    /// <summary>The next message not yet read, in arrival order.</summary>
    public Task<JsonElement> NextAsync(TimeSpan? wait = null) => TakeAsync(_ => true, "any message", wait);

    /// <summary>The first unread message matching <paramref name="match"/>; earlier unread messages stay queued.</summary>
    public async Task<JsonElement> TakeAsync(Func<JsonElement, bool> match, string what, TimeSpan? wait = null)
    {
        var deadline = DateTime.UtcNow + (wait ?? DefaultWait);
        while (true)
        {
            lock (_gate)
            {
                var index = _pending.FindIndex(m => match(m));
                if (index >= 0)
                {
                    var message = _pending[index];
                    _pending.RemoveAt(index);
                    return message;
                }
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _arrived.WaitAsync(left))
                throw new TimeoutException($"no {what} within {wait ?? DefaultWait}; unread: {string.Join(" | ", Unread())}");
        }
    }

    public Task<JsonElement> NextEventAsync(string name, TimeSpan? wait = null) =>
        TakeAsync(m => m.GetProperty("type").GetString() == "event" && m.GetProperty("event").GetString() == name, $"event {name}", wait);

    /// <summary>Messages received but not read yet.</summary>
    public IReadOnlyList<JsonElement> Unread()
    {
        lock (_gate) return [.. _pending];
    }

    public static bool IsResponseTo(JsonElement message, long id) =>
        message.GetProperty("type").GetString() == "response"
        && message.TryGetProperty("id", out var got) && got.ValueKind == JsonValueKind.Number && got.GetInt64() == id;

    public async Task CloseAsync(WebSocketCloseStatus status = WebSocketCloseStatus.NormalClosure)
    {
        await _socket.CloseOutputAsync(status, "bye", CancellationToken.None);
    }

    /// <summary>Drops the TCP connection without a close frame, like a network that vanished.</summary>
    public void Abort() => _socket.Abort();

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[256 * 1024];
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    length += result.Count;
                } while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    _closed.TrySetResult(_socket.CloseStatus);
                    if (_socket.State == WebSocketState.CloseReceived)
                        await _socket.CloseOutputAsync(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                    return;
                }
                var message = JsonDocument.Parse(buffer.AsMemory(0, length)).RootElement.Clone();
                lock (_gate)
                {
                    History.Add(message);
                    _pending.Add(message);
                }
                _arrived.Release();
            }
        }
        catch (Exception)
        {
            _closed.TrySetResult(null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        await Task.CompletedTask;
    }
}
