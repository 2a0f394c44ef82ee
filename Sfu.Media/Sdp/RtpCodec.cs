namespace Sfu.Media.Sdp;

/// <summary>
/// One payload type of a media section, assembled from its rtpmap, fmtp and rtcp-fb lines.
/// <see cref="Name"/> is empty for a static payload type offered without an rtpmap whose
/// meaning this library does not know; such a codec is never written with an rtpmap.
/// </summary>
public sealed class RtpCodec
{
    public RtpCodec(int payloadType, string name, int clockRate, int? channels = null)
    {
        PayloadType = payloadType;
        Name = name;
        ClockRate = clockRate;
        Channels = channels;
    }

    public int PayloadType { get; set; }

    public string Name { get; set; }

    public int ClockRate { get; set; }

    /// <summary>Audio channel count from the rtpmap; null when the rtpmap had none (meaning 1).</summary>
    public int? Channels { get; set; }

    public FormatParameters Parameters { get; set; } = new();

    public List<RtcpFeedback> Feedback { get; } = [];

    public bool IsRtx => Is(CodecNames.Rtx);

    /// <summary>For an RTX codec (RFC 4588), the payload type it repairs ("apt"); otherwise null.</summary>
    public int? AssociatedPayloadType => IsRtx && Parameters.GetInt("apt", -1) is var apt and >= 0 ? apt : null;

    public bool Is(string name) => string.Equals(Name, name, StringComparison.OrdinalIgnoreCase);

    public RtpCodec Clone()
    {
        var copy = new RtpCodec(PayloadType, Name, ClockRate, Channels) { Parameters = Parameters.Clone() };
        copy.Feedback.AddRange(Feedback);
        return copy;
    }

    public string RtpmapValue() => Channels is null ? $"{PayloadType} {Name}/{ClockRate}" : $"{PayloadType} {Name}/{ClockRate}/{Channels}";

    public override string ToString() => $"{RtpmapValue()} {Parameters}";
}

/// <summary>Encoding names as they appear in rtpmap lines (compared case-insensitively).</summary>
public static class CodecNames
{
    public const string Opus = "opus";
    public const string Vp8 = "VP8";
    public const string Vp9 = "VP9";
    public const string H264 = "H264";
    public const string Av1 = "AV1";
    public const string Rtx = "rtx";
}
