namespace Sfu.Media.Sdp;

/// <summary>The o= line. The session id and version are kept as text: they are opaque 64-bit-ish numbers that browsers compare, never do arithmetic on, except the version we increment ourselves.</summary>
public sealed record SdpOrigin(string Username, string SessionId, ulong SessionVersion, string NetworkType, string AddressType, string Address)
{
    public static SdpOrigin Default { get; } = new("-", "0", 0, "IN", "IP4", "127.0.0.1");

    public override string ToString() => $"{Username} {SessionId} {SessionVersion} {NetworkType} {AddressType} {Address}";
}
