namespace Sfu.Media.Sdp;

/// <summary>
/// a=candidate (RFC 8839). The fields after "typ" (raddr, rport, tcptype, generation, network-id...)
/// are kept as one string: the server is ICE-lite and never pairs candidates, it only needs to
/// write its own and not lose the client's.
/// </summary>
public sealed record IceCandidate(
    string Foundation,
    int Component,
    string Transport,
    uint Priority,
    string Address,
    int Port,
    string Type,
    string? Extensions = null)
{
    /// <summary>Priority for a host UDP candidate (RFC 8445 5.1.2.1: type preference 126, local preference 65535).</summary>
    public static uint HostPriority(int component) => (uint)((126 << 24) | (65535 << 8) | (256 - component));

    /// <summary>
    /// Priority for a passive TCP host candidate (RFC 6544 4.2: local preference = 2^13 * direction preference +
    /// other preference, with direction preference 4 for passive host candidates and other preference 8191). Below
    /// every UDP host candidate, so a client that reaches the UDP port prefers it.
    /// </summary>
    public static uint PassiveTcpHostPriority(int component) => (uint)((126 << 24) | (((4 << 13) + 8191) << 8) | (256 - component));

    public override string ToString() =>
        $"{Foundation} {Component} {Transport} {Priority} {Address} {Port} typ {Type}" + (Extensions is null ? "" : " " + Extensions);
}
