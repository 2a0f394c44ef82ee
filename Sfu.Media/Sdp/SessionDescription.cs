using Sfu.Media.Dtls;

namespace Sfu.Media.Sdp;

/// <summary>
/// A parsed SDP offer or answer (RFC 8866) with the attributes WebRTC uses (RFC 8829) modelled and
/// everything else kept as raw lines. Mutable on purpose: builders fill one in and write it.
/// </summary>
public sealed class SessionDescription
{
    public SdpOrigin Origin { get; set; } = SdpOrigin.Default;

    public string SessionName { get; set; } = "-";

    public string Timing { get; set; } = "0 0";

    public string? Connection { get; set; }

    public List<SdpLine> OtherLines { get; } = [];

    public List<SdpGroup> Groups { get; } = [];

    public MsidSemantic? MsidSemantic { get; set; }

    public bool IceLite { get; set; }

    public string? IceUfrag { get; set; }

    public string? IcePwd { get; set; }

    public string? IceOptions { get; set; }

    public DtlsFingerprint? Fingerprint { get; set; }

    public DtlsSetup? Setup { get; set; }

    public bool ExtmapAllowMixed { get; set; }

    /// <summary>Session-level direction (Firefox writes a=sendrecv here); applies to sections without their own.</summary>
    public MediaDirection? Direction { get; set; }

    /// <summary>Session-level a=extmap lines (RFC 8285 allows them); they apply to every section.</summary>
    public List<RtpHeaderExtension> HeaderExtensions { get; } = [];

    public List<SdpAttribute> OtherAttributes { get; } = [];

    public List<MediaDescription> Media { get; } = [];

    /// <summary>The first BUNDLE group, or null when the description bundles nothing.</summary>
    public SdpGroup? Bundle => Groups.Find(g => g.Semantics == SdpGroup.Bundle);

    public static SessionDescription Parse(string text) => SdpParser.Parse(text);

    public MediaDescription? FindMedia(string mid) => Media.Find(m => m.Mid == mid);

    public MediaDirection DirectionOf(MediaDescription media) => media.Direction ?? Direction ?? MediaDirection.SendRecv;

    public string? IceUfragFor(MediaDescription media) => media.IceUfrag ?? IceUfrag;

    public string? IcePwdFor(MediaDescription media) => media.IcePwd ?? IcePwd;

    public DtlsFingerprint? FingerprintFor(MediaDescription media) => media.Fingerprint ?? Fingerprint;

    public DtlsSetup? SetupFor(MediaDescription media) => media.Setup ?? Setup;

    /// <summary>Header extensions in force for a section: its own, plus session-level ones it does not override.</summary>
    public IEnumerable<RtpHeaderExtension> HeaderExtensionsFor(MediaDescription media) =>
        media.HeaderExtensions.Concat(HeaderExtensions.Where(s => media.HeaderExtensions.TrueForAll(m => m.Uri != s.Uri && m.Id != s.Id)));

    public override string ToString() => SdpWriter.Write(this);
}
