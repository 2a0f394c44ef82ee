namespace Sfu.Media.Sctp;

/// <summary>The limits of one association. The defaults suit a data channel over DTLS on a 1200-byte path.</summary>
public sealed record SctpAssociationOptions
{
    /// <summary>The SDP's <c>a=sctp-port</c>, the same at both ends in WebRTC (RFC 8841).</summary>
    public ushort Port { get; init; } = 5000;

    /// <summary>Largest SCTP packet: a DTLS record of it (header, explicit IV, MAC, padding) fits a 1200-byte datagram.</summary>
    public int MaxPacketSize { get; init; } = 1100;

    /// <summary>Largest message sent or accepted: the SDP's <c>a=max-message-size</c> (RFC 8841 section 6).</summary>
    public int MaxMessageSize { get; init; } = 256 * 1024;

    /// <summary>Bound on bytes accepted for sending and not yet acknowledged.</summary>
    public int MaxSendBufferBytes { get; init; } = 1024 * 1024;

    /// <summary>Bound on bytes held for reassembly and ordering; advertised as the receive window.</summary>
    public int MaxReceiveBufferBytes { get; init; } = 1024 * 1024;

    public TimeSpan InitialRto { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MinRto { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxRto { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>T3-rtx expiries in a row, or INIT/COOKIE-ECHO attempts, after which the association is aborted.</summary>
    public int MaxRetransmissions { get; init; } = 10;

    public TimeSpan DelayedAck { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan CookieLifetime { get; init; } = TimeSpan.FromSeconds(60);
}
