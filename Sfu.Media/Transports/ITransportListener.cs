namespace Sfu.Media.Transports;

/// <summary>
/// How a transport talks to its owner (the peer's media session). Called on the media worker's thread;
/// packet callbacks hand over spans that are valid only during the call.
/// </summary>
public interface ITransportListener
{
    /// <summary>Something authenticated arrived from the client (STUN check, DTLS, SRTP): the peer is alive.</summary>
    void OnTransportActivity(WebRtcTransport transport);

    /// <summary>DTLS finished and SRTP is keyed: media may flow.</summary>
    void OnTransportConnected(WebRtcTransport transport);

    /// <summary>The DTLS handshake failed; the transport carries no media.</summary>
    void OnTransportFailed(WebRtcTransport transport, string reason);

    /// <summary>A decrypted RTP packet from the client.</summary>
    void OnRtp(WebRtcTransport transport, Span<byte> packet);

    /// <summary>A decrypted RTCP compound packet from the client.</summary>
    void OnRtcp(WebRtcTransport transport, ReadOnlySpan<byte> compound);

    /// <summary>Media now goes to a new client address: pictures need a fresh keyframe.</summary>
    void OnPathChanged(WebRtcTransport transport, PathSwitchTrigger trigger);

    /// <summary>Every path's ICE consent lapsed: the media path is dead (the peer may still be alive).</summary>
    void OnConsentLost(WebRtcTransport transport);

    /// <summary>The worker's periodic tick (every few tens of milliseconds): RTCP reports, retries.</summary>
    void OnTick(WebRtcTransport transport, long now);
}

/// <summary>Which way media flows on a transport, from the server's point of view of the client.</summary>
public enum TransportDirection { Publish, Subscribe }

/// <summary>Why a transport moved to another client address.</summary>
public enum PathSwitchTrigger
{
    /// <summary>The first verified path.</summary>
    Initial,

    /// <summary>The client nominated the new path (USE-CANDIDATE).</summary>
    Nominated,

    /// <summary>The current path went silent while the new one was verified.</summary>
    SilentPath,

    /// <summary>The current path's consent lapsed and another live path took over.</summary>
    ConsentLapsed,

    /// <summary>Every path had been lost (consent lapsed, or forgotten) and the client is back.</summary>
    Restored,
}
