using System.Net;
using Sfu.Media.IceTcp;

namespace Sfu.Media.Transports;

/// <summary>
/// One way to the client that passed an authenticated ICE check: a client address on the UDP port, or one ICE-TCP
/// connection (whose remote address is kept for STUN answers and logs; the connection itself is the identity, so a
/// UDP and a TCP path from the same address and port are two paths). Consent is tracked per path (RFC 7675), not per
/// transport.
/// </summary>
internal sealed class IcePath(SocketAddress address, IceTcpConnection? connection, long now)
{
    public SocketAddress Address { get; } = address;

    /// <summary>The ICE-TCP connection this path runs over; null for a UDP path.</summary>
    public IceTcpConnection? Connection { get; } = connection;

    public bool IsTcp => Connection is not null;

    /// <summary>When the first authenticated check came from this address.</summary>
    public long FirstVerified { get; } = now;

    /// <summary>Last authenticated check: consent is fresh while this is recent.</summary>
    public long LastConsent { get; set; } = now;

    /// <summary>Last authenticated packet of any kind: a selected path that goes quiet may be dead.</summary>
    public long LastReceived { get; set; } = now;

    public bool Matches(SocketAddress other, IceTcpConnection? connection) =>
        connection is null ? Connection is null && Address.Equals(other) : ReferenceEquals(Connection, connection);
}
