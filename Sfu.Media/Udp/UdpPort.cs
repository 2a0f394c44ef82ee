using System.Net;
using System.Net.Sockets;
using Sfu.Media.Interop;

namespace Sfu.Media.Udp;

/// <summary>
/// The one UDP socket of the media plane. Receive and send work on spans and <see cref="SocketAddress"/>es, so
/// the packet path allocates nothing. Only the media worker's thread uses it, except <see cref="Wake"/>.
/// </summary>
public sealed class UdpPort : IDisposable
{
    private readonly Socket _socket;
    private readonly int _socketNumber;
    private readonly SafeEventFdHandle _wakeup = SafeEventFdHandle.Create();

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
        _socketNumber = (int)_socket.SafeHandle.DangerousGetHandle();
    }

    public IPEndPoint LocalEndPoint { get; }

    public AddressFamily AddressFamily => _socket.AddressFamily;

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for a datagram to be readable, or until another thread calls
    /// <see cref="Wake"/>; true when a datagram is readable.
    /// </summary>
    public unsafe bool Wait(TimeSpan timeout)
    {
        var descriptors = stackalloc Libc.PollFd[2];
        descriptors[0] = new Libc.PollFd { Fd = _socketNumber, Events = Libc.POLLIN };
        descriptors[1] = new Libc.PollFd { Fd = _wakeup.Number, Events = Libc.POLLIN };
        var timeoutMs = (int)Math.Ceiling(Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue));
        // Nothing ready (or a signal interrupted the wait, EINTR): the caller's loop comes straight back.
        if (Libc.poll(descriptors, 2, timeoutMs) <= 0) return false;
        if (descriptors[1].Revents != 0) _wakeup.Drain();
        return descriptors[0].Revents != 0;
    }

    /// <summary>
    /// Ends a <see cref="Wait"/> in progress, or the next one, at once. Any thread: this is how work queued for the
    /// media worker gets run without waiting for a timeout.
    /// </summary>
    public void Wake() => _wakeup.Signal();

    /// <summary>
    /// Whether a datagram of at least one byte is queued (FIONREAD). Asking first is what keeps the receive loop from
    /// reading an empty non-blocking socket, which throws: an exception per wakeup costs microseconds and allocates.
    /// A queued empty datagram reads as 0 here; <see cref="Wait"/> still reports it, so the next batch gets it.
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

    public void Dispose()
    {
        _socket.Dispose();
        _wakeup.Dispose();
    }
}
