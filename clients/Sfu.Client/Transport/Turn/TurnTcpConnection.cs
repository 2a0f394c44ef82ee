using System.Net;
using System.Net.Sockets;

namespace Sfu.Client.Transport.Turn;

/// <summary>
/// The TCP connection to a TURN server (RFC 8656 section 3.1, "TURN over TCP"): frames written whole under a lock, so
/// that sends from several threads never interleave; received bytes cut into STUN messages and ChannelData by
/// <see cref="TurnFraming.FrameLength"/> in one buffer of two maximal frames, so any split or coalescing of segments reads
/// the same. A closed connection or bytes that frame nothing end the relay.
/// </summary>
internal sealed class TurnTcpConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly Lock _writeGate = new();
    private readonly CancellationTokenSource _stopping = new();

    public TurnTcpConnection(IPAddress localAddress)
    {
        _socket = new Socket(localAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.Bind(new IPEndPoint(localAddress, 0));
    }

    public bool Send(ReadOnlySpan<byte> frame)
    {
        try
        {
            lock (_writeGate)
            {
                return _socket.Send(frame) == frame.Length;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Connects, starts <paramref name="relay"/>'s allocation for <paramref name="peer"/>, and reads until the end.</summary>
    public async Task RunAsync(TurnRelay relay, IPEndPoint server, IPEndPoint peer)
    {
        try
        {
            await _socket.ConnectAsync(server, _stopping.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            relay.Fail($"TURN TCP connection to {server} failed: {e.Message}");
            return;
        }

        relay.Start(peer);
        var buffer = GC.AllocateUninitializedArray<byte>(2 * TurnFraming.MaxFrameLength);
        int filled = 0;
        while (true)
        {
            int read;
            try
            {
                read = await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, _stopping.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                relay.Fail($"TURN TCP connection lost: {e.Message}");
                return;
            }

            if (read == 0)
            {
                relay.Fail("TURN TCP connection closed by the server");
                return;
            }

            filled += read;
            int offset = 0;
            int length;
            while ((length = TurnFraming.FrameLength(buffer.AsSpan(offset, filled - offset))) > 0)
            {
                relay.OnFrame(buffer.AsSpan(offset, length));
                offset += length;
            }

            if (length < 0)
            {
                relay.Fail("TURN TCP stream carried something that is neither STUN nor ChannelData");
                Dispose();
                return;
            }

            // A partial frame moves to the front; the buffer holds two whole frames, so the rest always fits.
            buffer.AsSpan(offset, filled - offset).CopyTo(buffer);
            filled -= offset;
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _socket.Dispose();
    }
}
