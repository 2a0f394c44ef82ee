namespace Sfu.Media.Transports;

/// <summary>How a transport's selected path reaches its client: the label values of <c>sfu_media_transports_by_protocol</c>.</summary>
public enum PathProtocol
{
    /// <summary>UDP straight from the client (host, server-reflexive or peer-reflexive address).</summary>
    Udp,

    /// <summary>An ICE-TCP connection to the server's passive TCP candidate.</summary>
    Tcp,

    /// <summary>
    /// UDP from a TURN server's relay: the client address is one of <c>Sfu:Media:RelayAddresses</c>. The server cannot
    /// see the TURN allocation itself, so this is what its source address says, no more.
    /// </summary>
    Relayed,
}
