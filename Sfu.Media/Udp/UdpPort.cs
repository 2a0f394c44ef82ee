using System.Net;
using System.Net.Sockets;

namespace Sfu.Media.Udp;

/// <summary>
/// The one UDP socket of the media plane. Receive and send work on spans and <see cref="SocketAddress"/>es, so
/// the packet path allocates nothing. Only the media worker's thread uses it.
/// </summary>
public sealed class UdpPort : IDisposable
{
    private readonly Socket _socket;

    public UdpPort(IPAddress bindAddress, int port)
    {
        _socket = new Socket(bindAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp)
        {
            ReceiveBufferSize = 4 * 1024 * 1024,
            SendBufferSize = 4 * 1024 * 1024,
            Blocking = false,
        };
        _socket.Bind(new IPEndPoint(bindAddress, port));
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    public IPEndPoint LocalEndPoint { get; }

    public AddressFamily AddressFamily => _socket.AddressFamily;

    /// <summary>Waits up to <paramref name="timeout"/> for a datagram to be readable.</summary>
    public bool WaitReadable(TimeSpan timeout) => _socket.Poll(timeout, SelectMode.SelectRead);

    /// <summary>
    /// Whether a datagram of at least one byte is queued (FIONREAD). Asking first is what keeps the receive loop from
    /// reading an empty non-blocking socket, which throws: an exception per wakeup costs microseconds and allocates.
    /// A queued empty datagram reads as 0 here; <see cref="WaitReadable"/> still reports it, so the next batch gets it.
    /// </summary>
    public bool HasPending => _socket.Available > 0;

    /// <summary>Reads one datagram into <paramref name="buffer"/>; returns its length, or -1 when none is queued.</summary>
    public int TryReceive(Span<byte> buffer, SocketAddress from)
    {
        try
        {
            return _socket.ReceiveFrom(buffer, SocketFlags.None, from);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.ConnectionReset or SocketError.MessageSize)
        {
            return -1;
        }
    }

    /// <summary>Sends one datagram; false when the kernel refused it (full buffer, unreachable), which callers count as a drop.</summary>
    public bool TrySend(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        try
        {
            return _socket.SendTo(datagram, SocketFlags.None, to) == datagram.Length;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose() => _socket.Dispose();
}
