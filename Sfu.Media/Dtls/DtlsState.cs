namespace Sfu.Media.Dtls;

public enum DtlsState
{
    /// <summary>Created; nothing sent or received yet.</summary>
    New,

    /// <summary>Handshake in progress, or finished but waiting for the remote fingerprint from SDP.</summary>
    Connecting,

    /// <summary>Handshake done and the peer's certificate matched the SDP fingerprint; keys are available.</summary>
    Connected,

    /// <summary>Handshake or fingerprint check failed; see <see cref="DtlsTransport.FailureReason"/>. Terminal.</summary>
    Failed,

    /// <summary>Closed by either side (close_notify) or disposed. Terminal.</summary>
    Closed,
}
