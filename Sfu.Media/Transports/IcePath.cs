using System.Net;

namespace Sfu.Media.Transports;

/// <summary>
/// One client address (5-tuple, with our fixed local side) that passed an authenticated ICE check.
/// Consent is tracked per path (RFC 7675), not per transport.
/// </summary>
internal sealed class IcePath(SocketAddress address, long now)
{
    public SocketAddress Address { get; } = address;

    /// <summary>When the first authenticated check came from this address.</summary>
    public long FirstVerified { get; } = now;

    /// <summary>Last authenticated check: consent is fresh while this is recent.</summary>
    public long LastConsent { get; set; } = now;

    /// <summary>Last authenticated packet of any kind: a selected path that goes quiet may be dead.</summary>
    public long LastReceived { get; set; } = now;

    public bool Matches(SocketAddress other) => Address.Equals(other);
}
