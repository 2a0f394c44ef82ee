using Sfu.Media.Dtls;

namespace Sfu.Media.Sdp;

/// <summary>
/// One m= section. ICE and DTLS attributes left null here are inherited from the session level
/// (see <see cref="SessionDescription.IceUfragFor"/> and friends); browsers repeat them per section,
/// but RFC 8839 allows either place.
/// </summary>
public sealed class MediaDescription
{
    public const string AudioKind = "audio";
    public const string VideoKind = "video";
    public const string ApplicationKind = "application";
    public const string WebRtcRtpProto = "UDP/TLS/RTP/SAVPF";

    public MediaDescription(string kind, int port, string proto)
    {
        Kind = kind;
        Port = port;
        Proto = proto;
    }

    /// <summary>"audio", "video", "application" or anything else a peer sends.</summary>
    public string Kind { get; set; }

    /// <summary>0 means the section is rejected or stopped (RFC 3264 section 6).</summary>
    public int Port { get; set; }

    /// <summary>The "/2" part of "m=audio 9/2 ..."; almost never used.</summary>
    public int? PortCount { get; set; }

    public string Proto { get; set; }

    /// <summary>The format list of the m= line in order: payload type numbers for RTP, "webrtc-datachannel" for SCTP.</summary>
    public List<string> Formats { get; } = [];

    public string? Connection { get; set; }

    public List<SdpLine> OtherLines { get; } = [];

    public string? Mid { get; set; }

    /// <summary>Null when the section had no direction attribute (then the session-level one, or sendrecv, applies).</summary>
    public MediaDirection? Direction { get; set; }

    public bool RtcpMux { get; set; }

    public bool RtcpReducedSize { get; set; }

    public string? IceUfrag { get; set; }

    public string? IcePwd { get; set; }

    public string? IceOptions { get; set; }

    public DtlsFingerprint? Fingerprint { get; set; }

    public DtlsSetup? Setup { get; set; }

    public List<IceCandidate> Candidates { get; } = [];

    public bool EndOfCandidates { get; set; }

    public bool ExtmapAllowMixed { get; set; }

    /// <summary>Codecs in the order of the m= line's payload types (which is the sender's preference).</summary>
    public List<RtpCodec> Codecs { get; } = [];

    /// <summary>a=rtcp-fb:* entries, which apply to every payload type of the section.</summary>
    public List<RtcpFeedback> WildcardFeedback { get; } = [];

    public List<RtpHeaderExtension> HeaderExtensions { get; } = [];

    public List<Msid> Msids { get; } = [];

    public List<SsrcGroup> SsrcGroups { get; } = [];

    public List<SsrcDescription> Ssrcs { get; } = [];

    public List<RidDescription> Rids { get; } = [];

    public SimulcastDescription? Simulcast { get; set; }

    public List<SdpAttribute> OtherAttributes { get; } = [];

    public bool IsRejected => Port == 0;

    public bool IsRtp => Proto.Contains("RTP", StringComparison.Ordinal);

    public RtpCodec? FindCodec(int payloadType) => Codecs.Find(c => c.PayloadType == payloadType);

    public RtpHeaderExtension? FindExtension(string uri) => HeaderExtensions.Find(e => e.Uri == uri);

    public SsrcDescription? FindSsrc(uint ssrc) => Ssrcs.Find(s => s.Ssrc == ssrc);

    public SsrcDescription GetOrAddSsrc(uint ssrc)
    {
        var existing = FindSsrc(ssrc);
        if (existing is not null)
        {
            return existing;
        }

        var added = new SsrcDescription(ssrc);
        Ssrcs.Add(added);
        return added;
    }

    /// <summary>Rewrites the m= line's format list from <see cref="Codecs"/>, for sections built in code.</summary>
    public void SetFormatsFromCodecs()
    {
        Formats.Clear();
        Formats.AddRange(Codecs.Select(c => c.PayloadType.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }
}
