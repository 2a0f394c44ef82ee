namespace Sfu.Media.Sdp;

/// <summary>a=group (RFC 5888), e.g. "BUNDLE 0 1 2" (RFC 8843). The first mid of a BUNDLE group is its tag.</summary>
public sealed record SdpGroup(string Semantics, IReadOnlyList<string> Mids)
{
    public const string Bundle = "BUNDLE";

    public override string ToString() => Mids.Count == 0 ? Semantics : $"{Semantics} {string.Join(' ', Mids)}";
}

/// <summary>a=msid-semantic (WebRTC legacy, still sent by every browser): "WMS" plus stream ids or "*".</summary>
public sealed record MsidSemantic(string Semantic, IReadOnlyList<string> Identifiers);
