namespace Sfu.Media.Sdp;

/// <summary>
/// A codec agreed on one m-line: the media payload type with its parameters and feedback, and the
/// RTX payload type that repairs it, if any. Payload types are those of the side that offered.
/// </summary>
public sealed record NegotiatedCodec(
    int PayloadType,
    string Name,
    int ClockRate,
    int? Channels,
    FormatParameters Parameters,
    IReadOnlyList<RtcpFeedback> Feedback,
    int? RtxPayloadType)
{
    public bool Is(string name) => string.Equals(Name, name, StringComparison.OrdinalIgnoreCase);

    public bool Has(RtcpFeedback feedback) => Feedback.Contains(feedback);

    /// <summary>The same codec under other payload type numbers (subscribe offers renumber).</summary>
    public NegotiatedCodec WithPayloadTypes(int payloadType, int? rtxPayloadType) =>
        this with { PayloadType = payloadType, RtxPayloadType = rtxPayloadType };

    /// <summary>The rtpmap/fmtp/rtcp-fb entries to write for this codec: the media codec, then its RTX.</summary>
    public IEnumerable<RtpCodec> ToRtpCodecs()
    {
        var media = new RtpCodec(PayloadType, Name, ClockRate, Channels) { Parameters = Parameters.Clone() };
        media.Feedback.AddRange(Feedback);
        yield return media;
        if (RtxPayloadType is { } rtx)
        {
            var repair = new RtpCodec(rtx, CodecNames.Rtx, ClockRate);
            repair.Parameters.Set("apt", PayloadType.ToString(System.Globalization.CultureInfo.InvariantCulture));
            yield return repair;
        }
    }

    /// <summary>A key equal for two codecs that are interchangeable on the wire (same format and parameters).</summary>
    public string FormatKey =>
        $"{Name.ToLowerInvariant()}/{ClockRate}/{Channels ?? 1};" +
        string.Join(';', Parameters.Select(p => $"{p.Key.ToLowerInvariant()}={p.Value}").Order(StringComparer.Ordinal));
}
