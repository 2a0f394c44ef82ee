using System.Buffers;
using System.Net.WebSockets;

namespace Sfu.Server.WebSockets;

/// <summary>
/// Reads whole WebSocket messages up to a size limit. Most messages are small: the reader starts with a small pooled
/// buffer and grows it only for the message that needs more, then shrinks back. A large buffer per socket for its whole
/// life would put thousands of large-object-heap arrays under the GC and stall every session when it collects them.
/// </summary>
internal sealed class WebSocketMessageReader(WebSocket socket, int limit) : IDisposable
{
    private const int SmallBufferBytes = 4096;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(SmallBufferBytes);
    private int _length;

    /// <summary>The message <see cref="ReadAsync"/> last returned (valid until the next call).</summary>
    public ReadOnlyMemory<byte> Message => _buffer.AsMemory(0, _length);

    /// <summary>The close code of the peer's close frame, once <see cref="ReadAsync"/> returned <see cref="IncomingMessage.Close"/>.</summary>
    public int? CloseStatus => (int?)socket.CloseStatus;

    /// <summary>Reads the next message; past the limit, reads on only to find its end and reports it oversized.</summary>
    public async Task<IncomingMessage> ReadAsync()
    {
        if (_buffer.Length > SmallBufferBytes) Replace(ArrayPool<byte>.Shared.Rent(SmallBufferBytes), keep: 0);
        _length = 0;
        var oversized = false;
        ValueWebSocketReceiveResult result;
        do
        {
            if (!oversized && _length == _buffer.Length) Replace(ArrayPool<byte>.Shared.Rent(Math.Min(_buffer.Length * 4, limit + 1)), keep: _length);
            var target = oversized ? _buffer.AsMemory() : _buffer.AsMemory(_length, Math.Min(_buffer.Length, limit + 1) - _length);
            result = await socket.ReceiveAsync(target, CancellationToken.None).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close) return IncomingMessage.Close;
            if (!oversized)
            {
                _length += result.Count;
                oversized = _length > limit;
            }
        } while (!result.EndOfMessage);

        if (oversized)
        {
            _length = 0;
            return IncomingMessage.Oversized;
        }
        return result.MessageType == WebSocketMessageType.Binary ? IncomingMessage.Binary : IncomingMessage.Text;
    }

    /// <summary>
    /// Reads and ignores everything until the peer's close frame (a socket this server will not serve, already told
    /// why); returns its close code, or null if the connection broke instead.
    /// </summary>
    public static async Task<int?> DiscardUntilCloseAsync(WebSocket socket)
    {
        var scratch = new byte[1024];
        try
        {
            while (socket.State == WebSocketState.Open || socket.State == WebSocketState.CloseSent)
            {
                var result = await socket.ReceiveAsync(scratch, CancellationToken.None).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close) return (int?)socket.CloseStatus;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
        return null;
    }

    private void Replace(byte[] replacement, int keep)
    {
        _buffer.AsSpan(0, keep).CopyTo(replacement);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = replacement;
    }

    public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);
}

internal enum IncomingMessage
{
    Text,
    Binary,
    Oversized,
    /// <summary>The peer's close frame: its code is the socket's <see cref="WebSocket.CloseStatus"/>.</summary>
    Close,
}
