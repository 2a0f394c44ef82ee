using System.Net;
using System.Net.Sockets;
using Sfu.Media.Dtls;

namespace Sfu.Media.Sdp;

/// <summary>
/// The server's side of a WebRTC transport as written into SDP: ICE-lite credentials, the DTLS certificate fingerprint
/// and its host candidates: the announced address on the shared UDP port and, when ICE-TCP is on, on the TCP port
/// (RFC 6544 passive, at a lower priority, so that clients use it only when UDP does not get through).
/// </summary>
public sealed record LocalTransportParameters(string IceUfrag, string IcePwd, DtlsFingerprint Fingerprint, IPAddress Address, int Port, int? TcpPort = null)
{
    internal IEnumerable<IceCandidate> HostCandidates
    {
        get
        {
            yield return new("1", 1, "udp", IceCandidate.HostPriority(1), Address.ToString(), Port, "host");
            if (TcpPort is { } tcpPort)
                yield return new("2", 1, "tcp", IceCandidate.PassiveTcpHostPriority(1), Address.ToString(), tcpPort, "host", "tcptype passive");
        }
    }

    internal string ConnectionLine => $"IN {(Address.AddressFamily == AddressFamily.InterNetworkV6 ? "IP6" : "IP4")} {Address}";
}

/// <summary>
/// The client's side of a transport, read from its offer or answer: what the ICE-lite agent checks
/// STUN USERNAME/MESSAGE-INTEGRITY against, the fingerprint the DTLS handshake must present, and
/// the DTLS role the client took.
/// </summary>
public sealed record RemoteTransportParameters(string IceUfrag, string IcePwd, DtlsFingerprint Fingerprint, DtlsSetup Setup)
{
    /// <summary>
    /// Reads the parameters of the BUNDLE transport: those of the tagged m-line (the first mid of
    /// the group, RFC 8843), with session-level values filling in.
    /// </summary>
    public static RemoteTransportParameters FromBundle(SessionDescription description)
    {
        var tag = description.Bundle?.Mids.Select(description.FindMedia).FirstOrDefault(m => m is { IsRejected: false })
            ?? description.Media.Find(m => !m.IsRejected)
            ?? throw new SdpNegotiationException("the description has no active media section to carry a transport");

        var ufrag = description.IceUfragFor(tag) ?? throw Missing("a=ice-ufrag", tag);
        var pwd = description.IcePwdFor(tag) ?? throw Missing("a=ice-pwd", tag);
        var fingerprint = description.FingerprintFor(tag) ?? throw Missing("a=fingerprint", tag);
        var setup = description.SetupFor(tag) ?? DtlsSetup.ActPass;
        return new RemoteTransportParameters(ufrag, pwd, fingerprint, setup);
    }

    private static SdpNegotiationException Missing(string what, MediaDescription media) =>
        new($"{what} is missing for mid '{media.Mid}' and at session level");
}
