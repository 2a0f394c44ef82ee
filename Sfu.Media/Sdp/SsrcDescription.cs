namespace Sfu.Media.Sdp;

/// <summary>All a=ssrc lines (RFC 5576) for one SSRC, attributes in their original order.</summary>
public sealed class SsrcDescription(uint ssrc)
{
    public uint Ssrc { get; } = ssrc;

    public List<SdpAttribute> Attributes { get; } = [];

    public string? Cname => Get("cname");

    /// <summary>Legacy per-SSRC msid ("streamId trackId") that Chrome still writes.</summary>
    public string? Msid => Get("msid");

    public string? Get(string name) => Attributes.Find(a => a.Name == name)?.Value;

    public void Set(string name, string? value)
    {
        Attributes.RemoveAll(a => a.Name == name);
        Attributes.Add(new SdpAttribute(name, value));
    }
}

/// <summary>a=ssrc-group (RFC 5576): "FID media rtx" (RFC 4588) or "SIM low mid high".</summary>
public sealed record SsrcGroup(string Semantics, IReadOnlyList<uint> Ssrcs)
{
    public const string Fid = "FID";
    public const string Sim = "SIM";

    public override string ToString() => $"{Semantics} {string.Join(' ', Ssrcs)}";
}
