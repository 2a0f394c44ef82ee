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
/// size limit, and hands them to the signaling core. Owns the set of open sockets for graceful shutdown.
/// </summary>
internal sealed partial class WebSocketGateway(
    SignalingService signaling,
    SignalingMetrics metrics,
    IOptions<SignalingOptions> options,
    ILogger<WebSocketGateway> logger)
{
    public const string SubProtocol = "sfu.v1";

    private const int SmallBufferBytes = 4096;

    private readonly ConcurrentDictionary<WebSocketConnection, byte> _open = new();
    private long _nextId;

    public int OpenCount => _open.Count;

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("this endpoint speaks WebSocket (subprotocol sfu.v1)");
            return;
        }

        var offersProtocol = context.WebSockets.WebSocketRequestedProtocols.Contains(SubProtocol);
        using var socket = await context.WebSockets.AcceptWebSocketAsync(offersProtocol ? SubProtocol : null);
        var remoteAddress = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var connection = new WebSocketConnection(
            socket,
            $"ws-{Interlocked.Increment(ref _nextId)}",
            $"{remoteAddress}:{context.Connection.RemotePort}",
            options.Value.SendQueueCapacity);
        var writer = connection.RunWriterAsync();

        if (!signaling.IsAccepting)
        {
            connection.Close(CloseCodes.ShuttingDown, "server shutting down");
            await DrainUntilClosedAsync(socket);
            connection.OnReaderFinished();
            await writer;
            return;
        }

        _open.TryAdd(connection, 0);
        metrics.SocketOpened();
        var protocol = signaling.Accept(connection, remoteAddress);
        int? clientCloseCode = null;
        try
        {
            clientCloseCode = await ReadMessagesAsync(socket, protocol);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            Log.SocketBroke(logger, connection.RemoteEndpoint, ex.Message);
        }
        finally
        {
            connection.OnReaderFinished();
            protocol.OnClosed(clientCloseCode);
            // Answer a client's close frame (if we have not closed first); nothing else is sent after it.
            if (clientCloseCode is { } code) connection.Close(code, "");
            await writer;
            _open.TryRemove(connection, out _);
            metrics.SocketClosed();
        }
    }

    /// <summary>Closes every socket with 1001 so that clients reconnect (possibly elsewhere) and resume.</summary>
    public void CloseAll()
    {
        foreach (var connection in _open.Keys) connection.Close(CloseCodes.ShuttingDown, "server shutting down");
    }

    /// <summary>Reads until the client's close frame (returns its code) or the socket breaks (throws).</summary>
    private async Task<int?> ReadMessagesAsync(WebSocket socket, SignalingConnection protocol)
    {
        var limit = options.Value.MaxMessageBytes;
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
    }
}
