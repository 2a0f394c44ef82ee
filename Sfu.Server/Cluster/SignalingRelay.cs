using System.Buffers;
using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using Sfu.Server.WebSockets;
using Sfu.Signaling;
using Sfu.Signaling.Protocol;

namespace Sfu.Server.Cluster;

/// <summary>
/// Makes this node a transparent relay for a client whose room lives on another node: opens a WebSocket to the owner
/// (subprotocol <c>sfu.v1</c>, signed relay headers carrying the client's address), sends it the client's first
/// message, then pipes messages both ways and mirrors how either side ends: a close frame with its code, or a
/// broken connection. The owner sees a normal session; the client sees the owner's answers, seq for seq.
/// </summary>
internal sealed partial class SignalingRelay(ClusterNode node, IOptions<SignalingOptions> options, ILogger<SignalingRelay> logger)
{
    private const int ChunkBytes = 4096;
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Relays until the client's socket ends; returns the client's close code (null if it sent none).</summary>
    public async Task<int?> RunAsync(WebSocket client, WebSocketConnection connection, string clientAddress, ReadOnlyMemory<byte> firstMessage, string ownerUrl)
    {
        connection.MarkRelayed();
        using var upstream = new ClientWebSocket();
        upstream.Options.AddSubProtocol(WebSocketGateway.SubProtocol);
        upstream.Options.KeepAliveInterval = KeepAlive;
        foreach (var (name, value) in node.Credentials.Create(node.Identity!.Id, clientAddress)) upstream.Options.SetRequestHeader(name, value);
        try
        {
            using var timeout = new CancellationTokenSource(node.Options.ConnectTimeoutMs);
            await upstream.ConnectAsync(new Uri(ownerUrl), timeout.Token).ConfigureAwait(false);
            await upstream.SendAsync(firstMessage, WebSocketMessageType.Text, endOfMessage: true, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or HttpRequestException)
        {
            // The owner will lose its lease if it is gone; until then the client retries, as after any 1001.
            node.Metrics.RelayUnreachable();
            Log.OwnerUnreachable(logger, ownerUrl, ex.Message);
            connection.Close(CloseCodes.ShuttingDown, "the room's node is unreachable; reconnect");
            return await WebSocketMessageReader.DiscardUntilCloseAsync(client).ConfigureAwait(false);
        }

        node.Metrics.RelayStarted();
        Log.Relaying(logger, clientAddress, ownerUrl);
        var downstream = PipeDownAsync(upstream, connection);
        try
        {
            var clientClose = await PipeUpAsync(client, upstream).ConfigureAwait(false);
            if (upstream.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await upstream.CloseOutputAsync(clientClose is { } code ? (WebSocketCloseStatus)code : WebSocketCloseStatus.Empty,
                    client.CloseStatusDescription, CancellationToken.None).ConfigureAwait(false);
            }
            if (await Task.WhenAny(downstream, Task.Delay(CloseHandshakeTimeout)).ConfigureAwait(false) != downstream) upstream.Abort();
            return clientClose;
        }
        catch
        {
            // The client's connection broke: so does the owner's view of it, and the session waits for a resume there.
            upstream.Abort();
            throw;
        }
        finally
        {
            await downstream.ConfigureAwait(false);
            node.Metrics.RelayEnded();
        }
    }

    /// <summary>Client to owner, frame by frame as they arrive (the owner enforces the size limit); returns the client's close code.</summary>
    private static async Task<int?> PipeUpAsync(WebSocket client, WebSocket upstream)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            while (true)
            {
                var received = await client.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                if (received.MessageType == WebSocketMessageType.Close) return (int?)client.CloseStatus;
                await upstream.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Owner to client, whole messages through the client socket's send queue; the owner's close becomes the client's.</summary>
    private async Task PipeDownAsync(WebSocket upstream, WebSocketConnection connection)
    {
        // A message larger than the client's queue could never be sent to it.
        using var reader = new WebSocketMessageReader(upstream, (int)Math.Min(int.MaxValue - 1, options.Value.SendQueueMaxBytes));
        try
        {
            while (true)
            {
                switch (await reader.ReadAsync().ConfigureAwait(false))
                {
                    case IncomingMessage.Text:
                        if (!await connection.SendWhenRoomAsync(reader.Message.ToArray()).ConfigureAwait(false)) return;
                        break;
                    case IncomingMessage.Close:
                        connection.Close((int?)upstream.CloseStatus ?? CloseCodes.ShuttingDown, upstream.CloseStatusDescription ?? "");
                        return;
                    case IncomingMessage.Oversized:
                        Log.OversizedFromOwner(logger, connection.RemoteEndpoint);
                        connection.Abort();
                        upstream.Abort();
                        return;
                    case IncomingMessage.Binary:
                        break; // the protocol has none; nothing a client could use
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The owner went away without a close frame (killed, or the network between the nodes broke): the client
            // loses its socket the same way, reconnects, and its resume or join finds where the room lives now.
            connection.Abort();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 810, Level = LogLevel.Debug, Message = "Relaying the socket of {ClientAddress} to {OwnerUrl}")]
        public static partial void Relaying(ILogger logger, string clientAddress, string ownerUrl);

        [LoggerMessage(EventId = 811, Level = LogLevel.Warning, Message = "Cannot relay to the room's node at {OwnerUrl}: {Reason}; the client was told to reconnect")]
        public static partial void OwnerUnreachable(ILogger logger, string ownerUrl, string reason);

        [LoggerMessage(EventId = 812, Level = LogLevel.Warning, Message = "The room's node sent a message larger than the send queue to {RemoteEndpoint}; both sockets dropped")]
        public static partial void OversizedFromOwner(ILogger logger, string remoteEndpoint);
    }
}
