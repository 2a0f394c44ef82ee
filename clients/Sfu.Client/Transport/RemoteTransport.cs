using System.Net;
using Sfu.Media.Dtls;
using Sfu.Media.Sdp;
using Sfu.Media.Stun;

namespace Sfu.Client.Transport;

/// <summary>
/// The server's side of a transport, from its SDP: ICE credentials, DTLS fingerprint, UDP host candidate and, when the
/// server offers ICE-TCP, its <c>tcptype passive</c> candidate.
/// </summary>
public sealed record RemoteTransport(IceCredentials Ice, DtlsFingerprint Fingerprint, IPEndPoint Candidate, IPEndPoint? TcpCandidate = null)
{
    /// <summary>Reads the BUNDLE transport of an answer or offer the server wrote.</summary>
    public static RemoteTransport FromSdp(SessionDescription description)
    {
        var parameters = RemoteTransportParameters.FromBundle(description);
        var tag = description.Media.Find(m => !m.IsRejected && m.Candidates.Count > 0)
            ?? throw new SdpNegotiationException("the server's description has no candidate");
        var candidate = tag.Candidates.Find(c => c.Transport.Equals("udp", StringComparison.OrdinalIgnoreCase))
            ?? throw new SdpNegotiationException("the server offered no UDP candidate");
        var tcp = tag.Candidates.Find(c => c.Transport.Equals("tcp", StringComparison.OrdinalIgnoreCase)
            && c.Extensions?.Contains("tcptype passive", StringComparison.OrdinalIgnoreCase) == true);
        return new RemoteTransport(
            new IceCredentials(parameters.IceUfrag, parameters.IcePwd),
            parameters.Fingerprint,
            new IPEndPoint(IPAddress.Parse(candidate.Address), candidate.Port),
            tcp is null ? null : new IPEndPoint(IPAddress.Parse(tcp.Address), tcp.Port));
    }
}
