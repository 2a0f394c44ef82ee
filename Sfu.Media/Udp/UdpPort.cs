using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Sfu.Media.Diagnostics;
using Sfu.Media.Interop;

namespace Sfu.Media.Udp;

/// <summary>
/// The one UDP socket of the media plane, read and written in batches: a <c>recvmmsg</c> per wake-up takes what is
/// queued, and sends are queued into preallocated slots that one <c>sendmmsg</c> hands to the kernel per
/// <see cref="Flush"/> (the worker's loop turn) or when the slots are full. A system call per batch instead of per
/// datagram is most of what forwarding to many subscribers costs (docs/ARCHITECTURE.md, batched sends). Receive and
/// send work on spans and <see cref="SocketAddress"/>es, so the packet path allocates nothing. Only the media worker's
/// thread uses it, except <see cref="Wake"/>.
/// </summary>
public sealed class UdpPort : IDatagramPort
{
    /// <summary>Datagrams one <c>recvmmsg</c> takes.</summary>
    public const int ReceiveBatchSize = 32;

    /// <summary>Datagrams queued before a send flushes them itself.</summary>
    public const int SendBatchSize = 64;

    /// <summary>An Ethernet MTU's worth: WebRTC clients keep their packets under it, and anything longer is dropped.</summary>
    public const int MaxReceivedDatagram = 1500;

    /// <summary>A received datagram re-protected for a subscriber can grow by an RTX header and a longer SRTP tag.</summary>
    public const int MaxSentDatagram = 1600;

    private readonly Socket _socket;
    private readonly int _socketNumber;
    private readonly SafeEventFdHandle _wakeup = SafeEventFdHandle.Create();
    private readonly MediaMetrics _metrics;
    private readonly DatagramSlots _receive = new(ReceiveBatchSize, MaxReceivedDatagram, Libc.TimestampControlSpace);
    private readonly DatagramSlots _send = new(SendBatchSize, MaxSentDatagram);
    private int _receivedCount;
    private int _queued;

    /// <param name="metrics">Where sends are counted: sent, or dropped when the kernel refuses them at a flush.</param>
    public UdpPort(IPAddress bindAddress, int port, MediaMetrics metrics)
    {
        _metrics = metrics;
        _socket = new Socket(bindAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp)
        {
            ReceiveBufferSize = 4 * 1024 * 1024,
            SendBufferSize = 4 * 1024 * 1024,
            Blocking = false,
        };
        // The kernel stamps each datagram's arrival: congestion feedback reports when a packet reached this host, not
        // when the worker got round to it (a busy or descheduled worker would look like a queue on the client's path).
        _socket.SetRawSocketOption(Libc.SOL_SOCKET, Libc.SO_TIMESTAMPNS, BitConverter.GetBytes(1));
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
    /// Reads the datagrams queued on the socket, up to <see cref="ReceiveBatchSize"/>, in one <c>recvmmsg</c>; returns
    /// how many, 0 when none is queued. Each stays readable through <see cref="Received"/> until the next call.
    /// </summary>
    public unsafe int ReceiveBatch()
    {
        for (var i = 0; i < _receivedCount; i++) _receive.ResetForReceive(i);
        _receivedCount = 0;
        // Non-blocking and without a timeout: the caller's poll said something is readable, and an empty queue
        // (or a signal, EINTR) is simply an empty batch, with no exception to throw or allocate.
        var count = Libc.recvmmsg(_socketNumber, _receive.Messages, (uint)_receive.Count, Libc.MSG_DONTWAIT, null);
        _receivedCount = Math.Max(count, 0);
        return _receivedCount;
    }

    /// <summary>
    /// Datagram <paramref name="index"/> of the last <see cref="ReceiveBatch"/>, its sender copied into
    /// <paramref name="from"/>. Empty when it was cut off (longer than <see cref="MaxReceivedDatagram"/>): the caller
    /// drops an empty datagram as malformed.
    /// </summary>
    public Span<byte> Received(int index, SocketAddress from)
    {
        ref var message = ref _receive.Message(index);
        if ((message.Header.Flags & Libc.MSG_TRUNC) != 0 || !_receive.TryCopyAddress(index, from)) return [];
        return _receive.Data(index)[..(int)message.Length];
    }

    /// <summary>
    /// When datagram <paramref name="index"/> of the last <see cref="ReceiveBatch"/> reached the socket, as the kernel
    /// stamped it (CLOCK_REALTIME, nanoseconds since the Unix epoch); null if it did not.
    /// </summary>
    public long? ReceivedAt(int index) => _receive.ArrivalTimestamp(index);

    /// <summary>
    /// Queues one datagram for the next <see cref="Flush"/>, which this call makes itself when the batch is full. The
    /// kernel's verdict comes at the flush: what it refuses (full buffer, unreachable) is counted there as a drop, the
    /// rest as sent. False only for a datagram too large to queue, counted as a drop too.
    /// </summary>
    public bool TrySend(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        if (datagram.Length > MaxSentDatagram || to.Size > Libc.MaxSocketAddress)
        {
            _metrics.Dropped(DropReason.SendFailed);
            return false;
        }
        var slot = _queued++;
        datagram.CopyTo(_send.Data(slot));
        _send.SetDataLength(slot, datagram.Length);
        _send.SetAddress(slot, to);
        if (_queued == _send.Count) Flush();
        return true;
    }

    /// <summary>
    /// Hands the queued datagrams to the kernel with <c>sendmmsg</c>, in order. A datagram the kernel refuses stops
    /// the call there; it is counted as dropped and the call resumes with the next, so one bad destination costs
    /// only its own datagram.
    /// </summary>
    public unsafe void Flush()
    {
        var next = 0;
        while (next < _queued)
        {
            var sent = Libc.sendmmsg(_socketNumber, _send.Messages + next, (uint)(_queued - next), Libc.MSG_DONTWAIT);
            if (sent <= 0)
            {
                // The first of the remaining datagrams was refused (the kernel reports an error only when it sent none).
                if (sent < 0 && Marshal.GetLastPInvokeError() == Libc.EINTR) continue;
                _metrics.Dropped(DropReason.SendFailed);
                next++;
                continue;
            }
            for (var i = next; i < next + sent; i++) _metrics.Sent((int)_send.Message(i).Length);
            next += sent;
        }
        _queued = 0;
    }

    public void Dispose()
    {
        _socket.Dispose();
        _wakeup.Dispose();
    }
}
