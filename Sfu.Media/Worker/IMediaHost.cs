using System.Net;
using Sfu.Media.Diagnostics;
using Sfu.Media.IceTcp;

namespace Sfu.Media.Worker;

/// <summary>
/// What everything living on a media worker (routers, transports, producers, consumers) may use of it: its settings,
/// counters, clock and scratch buffer. Children get this, never the worker: they cannot post commands, reach other
/// rooms or touch the socket except through <see cref="ITransportHost"/>. Worker thread only.
/// </summary>
internal interface IMediaHost
{
    MediaOptions Options { get; }

    MediaMetrics Metrics { get; }

    TimeProvider Time { get; }

    /// <summary>When the datagram being handled reached this host, on <see cref="Time"/>'s clock; outside a dispatch, now.</summary>
    long ArrivalTime { get; }

    /// <summary>Scratch space for building one outgoing packet; the worker builds and sends one before the next.</summary>
    byte[] SendBuffer { get; }
}

/// <summary>
/// What a transport needs beyond <see cref="IMediaHost"/>: sending on the worker's datagram port or an ICE-TCP
/// connection, and the worker's routing table, in which it registers its ufrag and its verified paths.
/// </summary>
internal interface ITransportHost : IMediaHost
{
    /// <summary>Queues one datagram on the worker's port; true when queued (a later refusal is a counted drop).</summary>
    bool Send(ReadOnlySpan<byte> datagram, SocketAddress to);

    /// <summary>Queues one packet, framed, on an ICE-TCP connection.</summary>
    bool SendTcp(ReadOnlySpan<byte> packet, IceTcpConnection connection);

    /// <summary>Whether a client address is a TURN relay's: how paths are counted, nothing more.</summary>
    bool IsRelayAddress(SocketAddress address);

    /// <summary>Which transport a datagram belongs to.</summary>
    TransportTable Table { get; }

    /// <summary>Starts draining a pipe from another worker each loop turn (and ticking its reader with the timers).</summary>
    void AddPipeReceiver(Pipes.IPipeReceiver receiver);

    void RemovePipeReceiver(Pipes.IPipeReceiver receiver);
}
