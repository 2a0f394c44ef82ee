using System.Text;
using Sfu.Media.Dtls;

namespace Sfu.Media.Sdp;

/// <summary>
/// Writes a <see cref="SessionDescription"/> as SDP text with CRLF line ends (RFC 8866 section 5).
/// The order of attributes follows what browsers write, so a diff against a browser's own SDP is readable.
/// </summary>
public static class SdpWriter
{
    // RFC 8866 fixes the order of session-level lines; unknown ones are placed where their type belongs.
    private const string BeforeTiming = "iuepcb";

    public static string Write(SessionDescription session)
    {
        var sb = new StringBuilder(2048);
        Line(sb, "v=0");
        Line(sb, "o=" + session.Origin);
        Line(sb, "s=" + session.SessionName);
        foreach (var other in session.OtherLines.Where(l => BeforeTiming.Contains(l.Type) && l.Type != 'c' && l.Type != 'b'))
        {
            Line(sb, other.ToString());
        }

        if (session.Connection is not null)
        {
            Line(sb, "c=" + session.Connection);
        }

        foreach (var other in session.OtherLines.Where(l => l.Type == 'b'))
        {
            Line(sb, other.ToString());
        }

        Line(sb, "t=" + session.Timing);
        foreach (var other in session.OtherLines.Where(l => !BeforeTiming.Contains(l.Type)))
        {
            Line(sb, other.ToString());
        }

        if (session.IceLite)
        {
            Line(sb, "a=ice-lite");
        }

        foreach (var group in session.Groups)
        {
            Line(sb, "a=group:" + group);
        }

        if (session.ExtmapAllowMixed)
        {
            Line(sb, "a=extmap-allow-mixed");
        }

        if (session.MsidSemantic is { } msidSemantic)
        {
            // Chrome writes a space after the colon; every parser accepts it, so we match it.
            Line(sb, "a=msid-semantic: " + string.Join(' ', msidSemantic.Identifiers.Prepend(msidSemantic.Semantic)));
        }

        if (session.Direction is { } direction)
        {
            Line(sb, "a=" + direction.ToSdp());
        }

        WriteTransport(sb, session.IceUfrag, session.IcePwd, session.IceOptions, session.Fingerprint, session.Setup);
        foreach (var extension in session.HeaderExtensions)
        {
            Line(sb, "a=extmap:" + extension);
        }

        foreach (var attribute in session.OtherAttributes)
        {
            Line(sb, "a=" + attribute);
        }

        foreach (var media in session.Media)
        {
            WriteMedia(sb, media);
        }

        return sb.ToString();
    }

    private static void WriteMedia(StringBuilder sb, MediaDescription media)
    {
        var port = media.PortCount is { } count ? $"{media.Port}/{count}" : media.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Line(sb, $"m={media.Kind} {port} {media.Proto} {string.Join(' ', media.Formats)}");
        foreach (var other in media.OtherLines.Where(l => l.Type == 'i'))
        {
            Line(sb, other.ToString());
        }

        if (media.Connection is not null)
        {
            Line(sb, "c=" + media.Connection);
        }

        foreach (var other in media.OtherLines.Where(l => l.Type != 'i'))
        {
            Line(sb, other.ToString());
        }

        foreach (var candidate in media.Candidates)
        {
            Line(sb, "a=candidate:" + candidate);
        }

        if (media.EndOfCandidates)
        {
            Line(sb, "a=end-of-candidates");
        }

        WriteTransport(sb, media.IceUfrag, media.IcePwd, media.IceOptions, media.Fingerprint, media.Setup);
        if (media.Mid is not null)
        {
            Line(sb, "a=mid:" + media.Mid);
        }

        foreach (var extension in media.HeaderExtensions)
        {
            Line(sb, "a=extmap:" + extension);
        }

        if (media.ExtmapAllowMixed)
        {
            Line(sb, "a=extmap-allow-mixed");
        }

        if (media.Direction is { } direction)
        {
            Line(sb, "a=" + direction.ToSdp());
        }

        foreach (var msid in media.Msids)
        {
            Line(sb, "a=msid:" + msid);
        }

        if (media.RtcpMux)
        {
            Line(sb, "a=rtcp-mux");
        }

        if (media.RtcpReducedSize)
        {
            Line(sb, "a=rtcp-rsize");
        }

        foreach (var feedback in media.WildcardFeedback)
        {
            Line(sb, "a=rtcp-fb:* " + feedback);
        }

        foreach (var codec in media.Codecs)
        {
            WriteCodec(sb, codec);
        }

        foreach (var group in media.SsrcGroups)
        {
            Line(sb, "a=ssrc-group:" + group);
        }

        foreach (var ssrc in media.Ssrcs)
        {
            foreach (var attribute in ssrc.Attributes)
            {
                Line(sb, $"a=ssrc:{ssrc.Ssrc} {attribute}");
            }
        }

        foreach (var rid in media.Rids)
        {
            Line(sb, "a=rid:" + rid);
        }

        if (media.Simulcast is { } simulcast)
        {
            Line(sb, "a=simulcast:" + simulcast);
        }

        foreach (var attribute in media.OtherAttributes)
        {
            Line(sb, "a=" + attribute);
        }
    }

    private static void WriteCodec(StringBuilder sb, RtpCodec codec)
    {
        if (codec.Name.Length > 0)
        {
            Line(sb, "a=rtpmap:" + codec.RtpmapValue());
        }

        foreach (var feedback in codec.Feedback)
        {
            Line(sb, $"a=rtcp-fb:{codec.PayloadType} {feedback}");
        }

        if (codec.Parameters.Count > 0)
        {
            Line(sb, $"a=fmtp:{codec.PayloadType} {codec.Parameters}");
        }
    }

    private static void WriteTransport(StringBuilder sb, string? ufrag, string? pwd, string? options, DtlsFingerprint? fingerprint, DtlsSetup? setup)
    {
        if (ufrag is not null)
        {
            Line(sb, "a=ice-ufrag:" + ufrag);
        }

        if (pwd is not null)
        {
            Line(sb, "a=ice-pwd:" + pwd);
        }

        if (options is not null)
        {
            Line(sb, "a=ice-options:" + options);
        }

        if (fingerprint is not null)
        {
            Line(sb, "a=fingerprint:" + fingerprint);
        }

        if (setup is { } s)
        {
            Line(sb, "a=setup:" + s.ToSdp());
        }
    }

    private static void Line(StringBuilder sb, string line) => sb.Append(line).Append("\r\n");
}
