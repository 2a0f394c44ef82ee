namespace Sfu.Media.Sdp;

/// <summary>
/// What the server accepts from publishers. Defaults match what every current browser can decode
/// after forwarding: the SFU never transcodes, so a codec is only useful if subscribers share it.
/// </summary>
public sealed record MediaCapabilities
{
    public static MediaCapabilities Default { get; } = new();

    public bool Vp8 { get; init; } = true;

    public bool Vp9 { get; init; } = true;

    public bool H264 { get; init; } = true;

    public bool Av1 { get; init; } = true;

    /// <summary>Accepted VP9 profile-ids, most preferred first (absent profile-id means 0).</summary>
    public IReadOnlyList<int> Vp9Profiles { get; init; } = [0, 2];

    /// <summary>Accepted H.264 profiles, most preferred first. Constrained Baseline decodes everywhere.</summary>
    public IReadOnlyList<H264Profile> H264Profiles { get; init; } =
        [H264Profile.ConstrainedBaseline, H264Profile.Baseline, H264Profile.Main, H264Profile.ConstrainedHigh, H264Profile.High];

    /// <summary>Highest H.264 level_idc put in an answer (0x34 = level 5.2); lower it to cap what publishers send.</summary>
    public byte H264MaxLevel { get; init; } = 0x34;

    /// <summary>
    /// Video codec names in the order the server prefers them, or null to follow the publisher's
    /// own order (the default: a browser lists first what it encodes best).
    /// </summary>
    public IReadOnlyList<string>? VideoCodecPreference { get; init; }

    /// <summary>RTCP feedback the server acts on; anything else offered is left out of the answer.</summary>
    public IReadOnlyList<RtcpFeedback> Feedback { get; init; } =
        [RtcpFeedback.Nack, RtcpFeedback.Pli, RtcpFeedback.Fir, RtcpFeedback.GoogRemb, RtcpFeedback.TransportCc];

    public IReadOnlyList<string> AudioExtensions { get; init; } =
        [RtpExtensionUris.Mid, RtpExtensionUris.AbsSendTime, RtpExtensionUris.TransportWideCc, RtpExtensionUris.AudioLevel];

    public IReadOnlyList<string> VideoExtensions { get; init; } =
        [RtpExtensionUris.Mid, RtpExtensionUris.AbsSendTime, RtpExtensionUris.TransportWideCc, RtpExtensionUris.RtpStreamId, RtpExtensionUris.RepairedRtpStreamId];

    public IReadOnlyList<string> ExtensionsFor(MediaKind kind) => kind == MediaKind.Audio ? AudioExtensions : VideoExtensions;
}
