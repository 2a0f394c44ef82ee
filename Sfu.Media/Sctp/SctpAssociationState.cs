namespace Sfu.Media.Sctp;

public enum SctpAssociationState
{
    /// <summary>Waiting for the peer's INIT (or for <see cref="SctpAssociation.Connect"/>).</summary>
    Listening,
    CookieWait,
    CookieEchoed,
    Established,

    /// <summary>The peer sent SHUTDOWN; our SHUTDOWN-ACK waits for its SHUTDOWN-COMPLETE.</summary>
    ShutdownAckSent,
    Closed,
}
