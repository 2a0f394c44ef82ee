using System.Net;
using System.Net.Sockets;

namespace Sfu.Tests.Infrastructure;

/// <summary>
/// A TCP forwarder between a client and the server's ICE-TCP port that a test can cut: <see cref="Cut"/> closes every
/// connection through it on both sides at once, as when a middlebox drops them. New connections are forwarded as
/// before, each to a fresh connection to the server. Bytes go through as they come, whatever their framing.
/// </summary>
public sealed class CuttableTcpRelay : IDisposable
{
    private readonly IPEndPoint _server;
    private readonly Socket _listen;
    private readonly Lock _gate = new();
    private readonly List<Socket> _open = [];
    private int _accepted;

    public CuttableTcpRelay(IPEndPoint server)
    {
        _server = server;
        _listen = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listen.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listen.Listen();
        ListenEndPoint = (IPEndPoint)_listen.LocalEndPoint!;
        _ = AcceptLoopAsync();
    }

    /// <summary>Where the client connects.</summary>
    public IPEndPoint ListenEndPoint { get; }

    /// <summary>Connections accepted from the client so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Closes every connection through the relay, client side and server side.</summary>
    public void Cut()
    {
        lock (_gate)
        {
            foreach (var socket in _open) socket.Dispose();
            _open.Clear();
        }
    }

    public void Dispose()
    {
        _listen.Dispose();
        Cut();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            var upstream = new Socket(_server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                client = await _listen.AcceptAsync();
                client.NoDelay = true;
                await upstream.ConnectAsync(_server);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                upstream.Dispose();
                return;
            }

            lock (_gate) _open.AddRange([client, upstream]);
            Interlocked.Increment(ref _accepted);
            _ = PumpAsync(client, upstream);
            _ = PumpAsync(upstream, client);
        }
    }

    /// <summary>Forwards one direction; when either side ends, both close.</summary>
    private static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Cut, or the other side went away: close both below.
        }

        from.Dispose();
        to.Dispose();
    }
}
