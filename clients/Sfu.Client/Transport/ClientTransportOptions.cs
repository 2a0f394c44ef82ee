using System.Net;
using System.Net.Sockets;
using Sfu.Client.Transport.IceTcp;
using Sfu.Client.Transport.Turn;

namespace Sfu.Client.Transport;

public sealed class ClientTransportOptions
{
    /// <summary>The local socket's address: 127.0.0.1, 127.0.0.2, an address inside a network namespace...</summary>
    public IPEndPoint LocalEndPoint { get; init; } = new(IPAddress.Loopback, 0);

    /// <summary>
    /// Makes the transport's UDP socket, unbound (the transport binds it to <see cref="LocalEndPoint"/>), for the
    /// first socket and every <see cref="ClientTransport.RebindAsync"/>. Null: a plain socket. A socket belongs to
    /// the network namespace it was created in, so a test can put the client inside one by creating it there.
    /// </summary>
    public Func<AddressFamily, Socket>? CreateSocket { get; init; }

    /// <summary>
    /// Relay only: send and receive everything through an allocation on this TURN server (over UDP from the transport's
    /// socket, or over TCP), never directly. Null: direct to the server's candidate. See <see cref="TurnRelayOptions.FromIceServers"/>.
    /// </summary>
    public TurnRelayOptions? Relay { get; init; }

    /// <summary>
    /// With <see cref="Relay"/>: try the server's candidate directly first, and move everything to the relay only when no
    /// check succeeded after this long (UDP blocked on the way to the server). Null: relay only from the start.
    /// </summary>
    public TimeSpan? RelayFallbackAfter { get; init; }

    /// <summary>
    /// TCP only (ICE-TCP, RFC 6544): connect to the server's <c>tcptype passive</c> candidate and carry checks, DTLS, SRTP
    /// and data channels over that connection in RFC 4571 frames, never over UDP, as a browser does on a network that
    /// drops UDP. Not with <see cref="Relay"/>.
    /// </summary>
    public bool IceTcp { get; init; }

    /// <summary>With <see cref="IceTcp"/>, for tests: coalesce and cut the writes and shorten the reads. Null: plain framing.</summary>
    public IceTcpShaping? IceTcpShaping { get; init; }

    /// <summary>Pace of checks until the first one succeeds (RFC 8445's Ta is 50 ms).</summary>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Pace of consent checks once connected (RFC 7675 asks for about 5 s; Chrome pings more often).</summary>
    public TimeSpan ConsentInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>DTLS-SRTP profiles offered, OpenSSL names, most preferred first.</summary>
    public string SrtpProfiles { get; init; } = ClientDtls.DefaultSrtpProfiles;
}
