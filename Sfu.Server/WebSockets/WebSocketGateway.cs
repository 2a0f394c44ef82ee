using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using Sfu.Signaling;
using Sfu.Signaling.Connections;
using Sfu.Signaling.Diagnostics;
using Sfu.Signaling.Protocol;

namespace Sfu.Server.WebSockets;

/// <summary>
/// The <c>/ws</c> endpoint: accepts WebSockets (subprotocol <c>sfu.v1</c>), reads whole text messages up to the
/// size limit, and hands them to the signaling core. Owns the set of open sockets, for graceful shutdown and for one
/// heartbeat that enforces the per-socket deadlines (the first message, and every send).
/// </summary>
internal sealed partial class WebSocketGateway : IDisposable
{
    public const string SubProtocol = "sfu.v1";

    private const int SmallBufferBytes = 4096;
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

    private readonly SignalingService _signaling;
    private readonly SignalingMetrics _metrics;
    private readonly SignalingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<WebSocketConnection, SignalingConnection> _open = new();
    private readonly SocketsPerAddress _perAddress;
    private readonly ITimer _heartbeat;
    private long _nextId;

    public WebSocketGateway(
        SignalingService signaling,
        SignalingMetrics metrics,
        IOptions<SignalingOptions> options,
        [FromKeyedServices(SignalingServiceCollectionExtensions.ClockKey)] TimeProvider time,
        ILogger<WebSocketGateway> logger)
    {
        _signaling = signaling;
        _metrics = metrics;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _perAddress = new SocketsPerAddress(_options.MaxSocketsPerIp);
        _heartbeat = time.CreateTimer(_ => EnforceDeadlines(), null, HeartbeatInterval, HeartbeatInterval);
    }

    public int OpenCount => _open.Count;

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("this endpoint speaks WebSocket (subprotocol sfu.v1)");
            return;
        }

        var remoteAddress = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (!_perAddress.TryAdd(remoteAddress))
        {
            _metrics.LimitHit("sockets");
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            await context.Response.WriteAsync($"too many signaling sockets from {remoteAddress} (at most {_options.MaxSocketsPerIp})");
            return;
        }
        try
        {
            await ServeAsync(context, remoteAddress);
        }
        finally
        {
            _perAddress.Remove(remoteAddress);
        }
    }

    private async Task ServeAsync(HttpContext context, string remoteAddress)
    {
        var offersProtocol = context.WebSockets.WebSocketRequestedProtocols.Contains(SubProtocol);
        using var socket = await context.WebSockets.AcceptWebSocketAsync(offersProtocol ? SubProtocol : null);
        var connection = new WebSocketConnection(
            socket,
            $"ws-{Interlocked.Increment(ref _nextId)}",
            $"{remoteAddress}:{context.Connection.RemotePort}",
            _options.SendQueueCapacity,
            _options.SendQueueMaxBytes,
            _time);
        var writer = connection.RunWriterAsync();

        if (!_signaling.IsAccepting)
        {
            connection.Close(CloseCodes.ShuttingDown, "server shutting down");
            await DrainUntilClosedAsync(socket);
            connection.OnReaderFinished();
            await writer;
            return;
        }

        var protocol = _signaling.Accept(connection, remoteAddress);
        _open.TryAdd(connection, protocol);
        _metrics.SocketOpened();
        int? clientCloseCode = null;
        try
        {
            clientCloseCode = await ReadMessagesAsync(socket, protocol);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            Log.SocketBroke(_logger, connection.RemoteEndpoint, ex.Message);
        }
        finally
        {
            // Answer a client's close frame (if we have not closed first); nothing else is sent after it. Before the
            // reader is marked finished: that ends the writer, which must already know it owes the client its close.
            if (clientCloseCode is { } code) connection.Close(code, "");
            connection.OnReaderFinished();
            protocol.OnClosed(clientCloseCode);
            await writer;
            _open.TryRemove(connection, out _);
            _metrics.SocketClosed();
        }
    }

    /// <summary>
    /// The heartbeat: a socket that has not joined or resumed in time is closed with 4000, and one whose current send
    /// has not finished in time (the client stopped reading; the kernel's buffers are full) is dropped. Its session, if
    /// any, survives for a resume, as after any lost connection.
    /// </summary>
    private void EnforceDeadlines()
    {
        var sendTimeout = TimeSpan.FromMilliseconds(_options.SendTimeoutMs);
        var firstMessageTimeout = TimeSpan.FromMilliseconds(_options.FirstMessageTimeoutMs);
        foreach (var (connection, protocol) in _open)
        {
            if (connection.IsAborted) continue;
            if (connection.CurrentSendDuration >= sendTimeout)
            {
                _metrics.LimitHit("send-timeout");
                Log.SendTimedOut(_logger, connection.RemoteEndpoint, protocol.Session?.Id);
                connection.Abort();
            }
            else if (protocol.Session is null && !protocol.IsClosing && _time.GetElapsedTime(connection.OpenedAt) >= firstMessageTimeout)
            {
                _metrics.LimitHit("first-message");
                _metrics.SocketClosedByServer(CloseCodes.ProtocolViolation);
                protocol.CloseForViolation($"no join or resume within {_options.FirstMessageTimeoutMs} ms");
            }
        }
    }

    public void Dispose() => _heartbeat.Dispose();

    /// <summary>Closes every socket with 1001 so that clients reconnect (possibly elsewhere) and resume.</summary>
    public void CloseAll()
    {
        foreach (var connection in _open.Keys) connection.Close(CloseCodes.ShuttingDown, "server shutting down");
    }

    /// <summary>Reads until the client's close frame (returns its code) or the socket breaks (throws).</summary>
    private async Task<int?> ReadMessagesAsync(WebSocket socket, SignalingConnection protocol)
    {
        var limit = _options.MaxMessageBytes;
        // Most messages are small: start each socket with a small pooled buffer and grow it only for the message
        // that needs more. A 64 KiB buffer per socket for its whole life would put thousands of large-object-heap
        // arrays under the GC and stall every session when it collects them.
        var buffer = ArrayPool<byte>.Shared.Rent(SmallBufferBytes);
        try
        {
            while (true)
            {
                var length = 0;
                var oversized = false;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (!oversized && length == buffer.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 4, limit + 1));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                    // Past the limit, keep reading into the buffer's spare room only to find the message's end.
                    var target = oversized ? buffer.AsMemory() : buffer.AsMemory(length, Math.Min(buffer.Length, limit + 1) - length);
                    result = await socket.ReceiveAsync(target, CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close) return (int?)socket.CloseStatus;
                    if (!oversized)
                    {
                        length += result.Count;
                        oversized = length > limit;
                    }
                } while (!result.EndOfMessage);

                if (oversized) protocol.OnOversizedMessage();
                else if (result.MessageType == WebSocketMessageType.Binary) protocol.OnBinaryMessage();
                else await protocol.OnTextMessageAsync(buffer.AsMemory(0, length));

                if (buffer.Length > SmallBufferBytes)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent(SmallBufferBytes);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task DrainUntilClosedAsync(WebSocket socket)
    {
        var scratch = new byte[1024];
        try
        {
            while (socket.State == WebSocketState.Open || socket.State == WebSocketState.CloseSent)
            {
                var result = await socket.ReceiveAsync(scratch, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close) return;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Debug, Message = "Socket from {RemoteEndpoint} broke: {Reason}")]
        public static partial void SocketBroke(ILogger logger, string remoteEndpoint, string reason);

        [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Dropped socket from {RemoteEndpoint} (session {SessionId}): the client stopped reading")]
        public static partial void SendTimedOut(ILogger logger, string remoteEndpoint, string? sessionId);
    }
}
