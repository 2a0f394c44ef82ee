using System.Net;

namespace Sfu.Media.Udp;

/// <summary>
/// The media worker's datagram socket, as the worker drives it: sleep until something arrives or someone wakes it, read
/// a batch, hand each datagram out with its sender, queue sends, flush them together. <see cref="UdpPort"/> is the real
/// one (recvmmsg/sendmmsg on a UDP socket); tests put an in-memory network under a worker through this seam, so
/// routing and rebinding run without sockets. Worker thread only, except <see cref="Wake"/>.
/// </summary>
/// <remarks>
/// Per datagram the worker makes one interface call to read it and one per send; both copy into preallocated slots,
/// so the seam adds no allocation to the packet path.
/// </remarks>
internal interface IDatagramPort : IDisposable
{
    IPEndPoint LocalEndPoint { get; }

    /// <summary>Sleeps until a datagram is waiting, <see cref="Wake"/> is called, or <paramref name="timeout"/> passes; true when datagrams wait.</summary>
    bool Wait(TimeSpan timeout);

    /// <summary>Ends a <see cref="Wait"/> from any thread (a command was queued).</summary>
    void Wake();

    /// <summary>Reads up to <see cref="UdpPort.ReceiveBatchSize"/> waiting datagrams; returns how many.</summary>
    int ReceiveBatch();

    /// <summary>Datagram <paramref name="index"/> of the last batch, its sender copied into <paramref name="from"/>; empty when unusable (cut off).</summary>
    Span<byte> Received(int index, SocketAddress from);

    /// <summary>When datagram <paramref name="index"/> arrived, in nanoseconds since the Unix epoch; null when unknown.</summary>
    long? ReceivedAt(int index);

    /// <summary>Queues one datagram for the next <see cref="Flush"/>; true when queued.</summary>
    bool TrySend(ReadOnlySpan<byte> datagram, SocketAddress to);

    /// <summary>Sends what is queued.</summary>
    void Flush();
}
