namespace Sfu.Client.Transport;

/// <summary>
/// Receives a transport's decrypted media, on the transport's receive loop. The spans are the receive
/// buffer itself, valid only during the call: copy what must outlive it.
/// </summary>
public interface IClientMediaListener
{
    void OnRtp(ClientTransport transport, Span<byte> packet);

    /// <summary>A whole (compound) RTCP packet.</summary>
    void OnRtcp(ClientTransport transport, Span<byte> compound);
}
