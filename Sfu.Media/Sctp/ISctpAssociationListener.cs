namespace Sfu.Media.Sctp;

/// <summary>What an <see cref="SctpAssociation"/> tells its owner, always on the thread that drives it.</summary>
public interface ISctpAssociationListener
{
    /// <summary>Sends one SCTP packet (as DTLS application data). The span is only valid during the call.</summary>
    void SendSctpPacket(ReadOnlySpan<byte> packet);

    /// <summary>A whole message arrived, in order for its stream if ordered. The span is only valid during the call.</summary>
    void OnSctpMessage(ushort stream, uint ppid, ReadOnlySpan<byte> payload);

    void OnSctpEstablished();

    /// <summary>The peer reset these of its outgoing streams (RFC 6525): WebRTC's way of closing data channels.</summary>
    void OnSctpIncomingStreamsReset(ReadOnlySpan<ushort> streams);

    void OnSctpClosed(string reason);
}
