namespace Sfu.Media.Dtls;

/// <summary>Which side of the DTLS handshake this end plays (SDP <c>a=setup</c>).</summary>
public enum DtlsRole
{
    /// <summary>Waits for the ClientHello: the SFU (<c>a=setup:passive</c>).</summary>
    Server,

    /// <summary>Sends the ClientHello: the project's own test client (<c>a=setup:active</c>).</summary>
    Client,
}
