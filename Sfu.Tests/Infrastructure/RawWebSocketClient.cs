using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Sfu.Tests.Infrastructure;

/// <summary>
/// A WebSocket client written by hand over a TCP socket, for what ClientWebSocket cannot do: put several frames in one
/// TCP write (so they reach the server together), or stop reading altogether, like a client whose process hangs.
/// </summary>
public sealed class RawWebSocketClient : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    private RawWebSocketClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket);
    }

    /// <param name="receiveBufferSize">The kernel's receive buffer; small, so that a client that stops reading fills it soon.</param>
    public static async Task<RawWebSocketClient> ConnectAsync(SfuTestServer server, int? receiveBufferSize = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (receiveBufferSize is { } size) socket.ReceiveBufferSize = size;
        await socket.ConnectAsync(server.WebSocketUri.Host, server.WebSocketUri.Port);
        var client = new RawWebSocketClient(socket);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        await client._stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET /ws HTTP/1.1\r\nHost: {server.WebSocketUri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sfu.v1\r\n\r\n"));
        var handshake = await client.ReadHandshakeAsync();
        if (!handshake.StartsWith("HTTP/1.1 101", StringComparison.Ordinal)) throw new InvalidOperationException(handshake);
        return client;
    }

    /// <summary>Sends every text as its own masked frame, all in one write.</summary>
    public async Task SendTogetherAsync(params string[] texts)
    {
        var frames = new MemoryStream();
        foreach (var text in texts) WriteMaskedFrame(frames, 0x81, Encoding.UTF8.GetBytes(text));
        await _stream.WriteAsync(frames.ToArray());
    }

    /// <summary>The payload of the next frame from the server (unmasked, as servers send).</summary>
    public async Task<byte[]> ReadFrameAsync() => (await ReadAnyFrameAsync()).Payload;

    /// <summary>Reads frames until the server's close frame, and answers it, completing the close handshake.</summary>
    public async Task AnswerCloseAsync()
    {
        while ((await ReadAnyFrameAsync()).Opcode != 0x8) { }
        var frame = new MemoryStream();
        WriteMaskedFrame(frame, 0x88, [0x03, 0xE8]);
        await _stream.WriteAsync(frame.ToArray());
    }

    private async Task<(int Opcode, byte[] Payload)> ReadAnyFrameAsync()
    {
        var header = new byte[2];
        await _stream.ReadExactlyAsync(header);
        long length = header[1] & 0x7F;
        if (length >= 126)
        {
            var extended = new byte[length == 126 ? 2 : 8];
            await _stream.ReadExactlyAsync(extended);
            length = extended.Aggregate(0L, (value, b) => (value << 8) | b);
        }
        var payload = new byte[length];
        await _stream.ReadExactlyAsync(payload);
        return (header[0] & 0x0F, payload);
    }

    private async Task<string> ReadHandshakeAsync()
    {
        var text = new StringBuilder();
        var one = new byte[1];
        while (!text.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await _stream.ReadAsync(one) == 0) throw new IOException("closed during the handshake");
            text.Append((char)one[0]);
        }
        return text.ToString();
    }

    private static void WriteMaskedFrame(Stream output, byte finAndOpcode, byte[] payload)
    {
        output.WriteByte(finAndOpcode);
        if (payload.Length < 126)
        {
            output.WriteByte((byte)(0x80 | payload.Length));
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            output.WriteByte(0x80 | 126);
            output.WriteByte((byte)(payload.Length >> 8));
            output.WriteByte((byte)payload.Length);
        }
        else
        {
            output.WriteByte(0x80 | 127);
            for (var shift = 56; shift >= 0; shift -= 8) output.WriteByte((byte)((long)payload.Length >> shift));
        }
        var mask = RandomNumberGenerator.GetBytes(4);
        output.Write(mask);
        for (var i = 0; i < payload.Length; i++) output.WriteByte((byte)(payload[i] ^ mask[i % 4]));
    }

    public void Dispose()
    {
        _stream.Dispose();
        _socket.Dispose();
    }
}
