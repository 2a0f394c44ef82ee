using System.Globalization;

namespace Sfu.Media.Sdp;

/// <summary>
/// Collects a media section's rtpmap, fmtp and rtcp-fb lines (which may come in any order) and,
/// when the section ends, turns them into <see cref="RtpCodec"/>s in the order of the m= line.
/// Lines for payload types the m= line does not list are kept raw, as RFC 8866 says to ignore them.
/// </summary>
internal sealed class CodecAssembler
{
    private readonly Dictionary<int, (string Name, int ClockRate, int? Channels)> _rtpmaps = [];
    private readonly Dictionary<int, FormatParameters> _fmtps = [];
    private readonly Dictionary<int, List<RtcpFeedback>> _feedback = [];
    private readonly List<(int PayloadType, SdpAttribute Raw)> _raw = [];

    public void AddRtpmap(SdpLineContext line, string value)
    {
        var (pt, name, clockRate, channels) = SdpAttributeReader.Rtpmap(line, value);
        if (!_rtpmaps.TryAdd(pt, (name, clockRate, channels)))
        {
            throw line.Fail($"payload type {pt} has two rtpmap lines");
        }

        _raw.Add((pt, new SdpAttribute("rtpmap", value)));
    }

    public void AddFmtp(SdpLineContext line, string value)
    {
        var (pt, rest) = SdpAttributeReader.PayloadTypeAndRest(line, value, "fmtp");
        if (pt < 0)
        {
            throw line.Fail("fmtp needs a payload type, not '*'");
        }

        if (!_fmtps.TryAdd(pt, FormatParameters.Parse(rest)))
        {
            throw line.Fail($"payload type {pt} has two fmtp lines");
        }

        _raw.Add((pt, new SdpAttribute("fmtp", value)));
    }

    public void AddFeedback(SdpLineContext line, string value, MediaDescription media)
    {
        var (pt, rest) = SdpAttributeReader.PayloadTypeAndRest(line, value, "rtcp-fb");
        var feedback = SdpAttributeReader.Feedback(line, rest);
        if (pt < 0)
        {
            media.WildcardFeedback.Add(feedback);
            return;
        }

        if (!_feedback.TryGetValue(pt, out var list))
        {
            _feedback[pt] = list = [];
        }

        list.Add(feedback);
        _raw.Add((pt, new SdpAttribute("rtcp-fb", value)));
    }

    public void Finish(MediaDescription media)
    {
        if (!media.IsRtp)
        {
            media.OtherAttributes.AddRange(_raw.Select(r => r.Raw));
            return;
        }

        var listed = new HashSet<int>();
        foreach (var format in media.Formats)
        {
            var pt = int.Parse(format, NumberStyles.None, CultureInfo.InvariantCulture);
            if (!listed.Add(pt))
            {
                continue;
            }

            var codec = _rtpmaps.TryGetValue(pt, out var map)
                ? new RtpCodec(pt, map.Name, map.ClockRate, map.Channels)
                : StaticPayloadTypes.Lookup(pt);
            if (_fmtps.TryGetValue(pt, out var fmtp))
            {
                codec.Parameters = fmtp;
            }

            if (_feedback.TryGetValue(pt, out var feedback))
            {
                codec.Feedback.AddRange(feedback);
            }

            media.Codecs.Add(codec);
        }

        media.OtherAttributes.AddRange(_raw.Where(r => !listed.Contains(r.PayloadType)).Select(r => r.Raw));
    }
}

/// <summary>The RFC 3551 static payload types browsers offer without an rtpmap.</summary>
internal static class StaticPayloadTypes
{
    public static RtpCodec Lookup(int payloadType) => payloadType switch
    {
        0 => new RtpCodec(0, "PCMU", 8000),
        8 => new RtpCodec(8, "PCMA", 8000),
        9 => new RtpCodec(9, "G722", 8000),
        13 => new RtpCodec(13, "CN", 8000),
        _ => new RtpCodec(payloadType, "", 0),
    };
}
