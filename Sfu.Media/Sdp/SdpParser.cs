namespace Sfu.Media.Sdp;

/// <summary>
/// Reads SDP text (RFC 8866) into a <see cref="SessionDescription"/>. Accepts CRLF or bare LF,
/// ignores blank lines, and throws <see cref="SdpParseException"/> with the line number for
/// anything it cannot make sense of. Attributes it has no model for are kept raw.
/// </summary>
public static class SdpParser
{
    public static SessionDescription Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var session = new SessionDescription();
        MediaDescription? media = null;
        CodecAssembler? codecs = null;
        var sawVersion = false;
        var lineNumber = 0;

        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var lineText = raw.TrimEnd('\r');
            if (lineText.Length == 0)
            {
                continue;
            }

            var line = new SdpLineContext(lineNumber, lineText);
            if (lineText.Length < 2 || lineText[1] != '=' || !char.IsAsciiLetterLower(lineText[0]))
            {
                throw line.Fail("expected '<type>=<value>' with a lower-case letter type");
            }

            var type = lineText[0];
            var value = lineText[2..];
            if (!sawVersion)
            {
                if (type != 'v' || value != "0")
                {
                    throw line.Fail("an SDP must start with v=0");
                }

                sawVersion = true;
                continue;
            }

            switch (type)
            {
                case 'v':
                    throw line.Fail("v= may only appear once, first");
                case 'm':
                    codecs?.Finish(media!);
                    media = ReadMediaLine(line, value);
                    codecs = new CodecAssembler();
                    session.Media.Add(media);
                    break;
                case 'a':
                    ReadAttribute(line, value, session, media, codecs);
                    break;
                case 'c':
                    if (media is null)
                    {
                        session.Connection = value;
                    }
                    else
                    {
                        media.Connection = value;
                    }

                    break;
                case 'o' when media is null:
                    session.Origin = ReadOrigin(line, value);
                    break;
                case 's' when media is null:
                    session.SessionName = value;
                    break;
                case 't' when media is null:
                    session.Timing = value;
                    break;
                default:
                    (media?.OtherLines ?? session.OtherLines).Add(new SdpLine(type, value));
                    break;
            }
        }

        if (!sawVersion)
        {
            throw new SdpParseException(Math.Max(lineNumber, 1), "", "the SDP is empty");
        }

        codecs?.Finish(media!);
        return session;
    }

    private static SdpOrigin ReadOrigin(SdpLineContext line, string value)
    {
        var t = line.Split(value, 6, "o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>");
        return new SdpOrigin(t[0], t[1], line.ParseULong(t[2], "session version"), t[3], t[4], t[5]);
    }

    private static MediaDescription ReadMediaLine(SdpLineContext line, string value)
    {
        var t = line.Split(value, 4, "m=<media> <port> <proto> <fmt>...");
        var portText = t[1];
        int? portCount = null;
        var slash = portText.IndexOf('/');
        if (slash >= 0)
        {
            portCount = line.ParseInt(portText[(slash + 1)..], "port count", 1, 65535);
            portText = portText[..slash];
        }

        var media = new MediaDescription(t[0], line.ParseInt(portText, "port", 0, 65535), t[2]) { PortCount = portCount };
        foreach (var format in t[3..])
        {
            if (media.IsRtp)
            {
                line.ParseInt(format, "RTP payload type", 0, 127);
            }

            media.Formats.Add(format);
        }

        return media;
    }

    private static void ReadAttribute(SdpLineContext line, string text, SessionDescription session, MediaDescription? media, CodecAssembler? codecs)
    {
        var colon = text.IndexOf(':');
        var name = colon < 0 ? text : text[..colon];
        var value = colon < 0 ? null : text[(colon + 1)..];
        if (name.Length == 0)
        {
            throw line.Fail("attribute has no name");
        }

        if (media is null)
        {
            ReadSessionAttribute(line, name, value, session);
        }
        else
        {
            ReadMediaAttribute(line, name, value, media, codecs!);
        }
    }

    private static void ReadSessionAttribute(SdpLineContext line, string name, string? value, SessionDescription session)
    {
        switch (name)
        {
            case "group": session.Groups.Add(SdpAttributeReader.Group(line, line.Required(value, name))); break;
            case "msid-semantic": session.MsidSemantic = SdpAttributeReader.MsidSemantic(line, line.Required(value, name)); break;
            case "ice-lite": session.IceLite = true; break;
            case "ice-ufrag": session.IceUfrag = line.Required(value, name); break;
            case "ice-pwd": session.IcePwd = line.Required(value, name); break;
            case "ice-options": session.IceOptions = line.Required(value, name); break;
            case "fingerprint": session.Fingerprint = SdpAttributeReader.Fingerprint(line, line.Required(value, name)); break;
            case "setup": session.Setup = SdpAttributeReader.Setup(line, line.Required(value, name)); break;
            case "extmap-allow-mixed": session.ExtmapAllowMixed = true; break;
            case "extmap": session.HeaderExtensions.Add(SdpAttributeReader.Extmap(line, line.Required(value, name))); break;
            default:
                if (value is null && MediaDirectionExtensions.TryParse(name, out var direction))
                {
                    session.Direction = direction;
                }
                else
                {
                    session.OtherAttributes.Add(new SdpAttribute(name, value));
                }

                break;
        }
    }

    private static void ReadMediaAttribute(SdpLineContext line, string name, string? value, MediaDescription media, CodecAssembler codecs)
    {
        switch (name)
        {
            case "mid": media.Mid = line.Required(value, name); break;
            case "rtcp-mux": media.RtcpMux = true; break;
            case "rtcp-rsize": media.RtcpReducedSize = true; break;
            case "ice-ufrag": media.IceUfrag = line.Required(value, name); break;
            case "ice-pwd": media.IcePwd = line.Required(value, name); break;
            case "ice-options": media.IceOptions = line.Required(value, name); break;
            case "fingerprint": media.Fingerprint = SdpAttributeReader.Fingerprint(line, line.Required(value, name)); break;
            case "setup": media.Setup = SdpAttributeReader.Setup(line, line.Required(value, name)); break;
            case "candidate": media.Candidates.Add(SdpAttributeReader.Candidate(line, line.Required(value, name))); break;
            case "end-of-candidates": media.EndOfCandidates = true; break;
            case "extmap-allow-mixed": media.ExtmapAllowMixed = true; break;
            case "extmap": media.HeaderExtensions.Add(SdpAttributeReader.Extmap(line, line.Required(value, name))); break;
            case "msid": media.Msids.Add(SdpAttributeReader.Msid(line, line.Required(value, name))); break;
            case "ssrc":
                var (ssrc, attribute) = SdpAttributeReader.Ssrc(line, line.Required(value, name));
                media.GetOrAddSsrc(ssrc).Attributes.Add(attribute);
                break;
            case "ssrc-group": media.SsrcGroups.Add(SdpAttributeReader.SsrcGroup(line, line.Required(value, name))); break;
            case "rid": media.Rids.Add(SdpAttributeReader.Rid(line, line.Required(value, name))); break;
            case "simulcast":
                if (media.Simulcast is not null)
                {
                    throw line.Fail("a media section may have only one a=simulcast");
                }

                media.Simulcast = SdpAttributeReader.Simulcast(line, line.Required(value, name));
                break;
            case "rtpmap": codecs.AddRtpmap(line, line.Required(value, name)); break;
            case "fmtp": codecs.AddFmtp(line, line.Required(value, name)); break;
            case "rtcp-fb": codecs.AddFeedback(line, line.Required(value, name), media); break;
            default:
                if (value is null && MediaDirectionExtensions.TryParse(name, out var direction))
                {
                    media.Direction = direction;
                }
                else
                {
                    media.OtherAttributes.Add(new SdpAttribute(name, value));
                }

                break;
        }
    }
}
