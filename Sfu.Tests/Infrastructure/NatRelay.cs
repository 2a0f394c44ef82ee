using System.Net;
using System.Net.Sockets;

namespace Sfu.Tests.Infrastructure;

/// <summary>
/// A one-client UDP relay that behaves like a NAT in front of a client: the client talks to the relay's
/// listening port, the server sees the relay's upstream port. <see cref="Rebind"/> swaps the upstream socket
/// for a new one, so the server sees the client's packets arrive from a new port (a NAT rebinding or a network
/// change) and the old port goes dead, exactly as for a phone that moved.
/// </summary>
public sealed class NatRelay : IAsyncDisposable
{
    private readonly UdpClient _listener;
    private readonly IPEndPoint _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _downstreamLoop;
    private UdpClient _upstream;
    private Task _upstreamLoop;
    private IPEndPoint? _client;
    private long _toServer;
    private long _toClient;

    public NatRelay(IPEndPoint server)
    {
        _server = server;
        _listener = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        _upstream = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        _downstreamLoop = ForwardFromClientAsync();
        _upstreamLoop = ForwardFromServerAsync(_upstream);
    }

    /// <summary>Where the client should send (put it in the SDP the client sees instead of the server's candidate).</summary>
    public IPEndPoint ClientFacingEndPoint => (IPEndPoint)_listener.Client.LocalEndPoint!;

    /// <summary>The address the server sees the client at now.</summary>
    public IPEndPoint ServerFacingEndPoint => (IPEndPoint)_upstream.Client.LocalEndPoint!;

    public long PacketsToServer => Interlocked.Read(ref _toServer);

    public long PacketsToClient => Interlocked.Read(ref _toClient);

    /// <summary>Moves to a new upstream port; the old one is closed, so nothing sent to it arrives any more.</summary>
    public void Rebind()
    {
        var old = _upstream;
        _upstream = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        _upstreamLoop = ForwardFromServerAsync(_upstream);
        old.Dispose();
    }

    private async Task ForwardFromClientAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var datagram = await _listener.ReceiveAsync(_stop.Token);
                _client = datagram.RemoteEndPoint;
                try
                {
                    await _upstream.SendAsync(datagram.Buffer, _server, _stop.Token);
                    Interlocked.Increment(ref _toServer);
                }
                catch (ObjectDisposedException)
                {
                    // Rebind raced this send; the next datagram goes out of the new socket.
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task ForwardFromServerAsync(UdpClient upstream)
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var datagram = await upstream.ReceiveAsync(_stop.Token);
                if (_client is null) continue;
                await _listener.SendAsync(datagram.Buffer, _client, _stop.Token);
                Interlocked.Increment(ref _toClient);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        _upstream.Dispose();
        await Task.WhenAll(_downstreamLoop, _upstreamLoop).WaitAsync(TimeSpan.FromSeconds(2)).ContinueWith(_ => { });
    }
}
