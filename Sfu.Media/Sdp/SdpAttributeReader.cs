using Sfu.Media.Dtls;

namespace Sfu.Media.Sdp;

/// <summary>Parses the value of one a= attribute into its model type. One method per attribute shape.</summary>
internal static class SdpAttributeReader
{
    public static SdpGroup Group(SdpLineContext line, string value)
    {
        var tokens = line.Split(value, 1, "a=group:<semantics> <mid>...");
        return new SdpGroup(tokens[0], tokens[1..]);
    }

    public static MsidSemantic MsidSemantic(SdpLineContext line, string value)
    {
        var tokens = line.Split(value, 1, "a=msid-semantic:<semantic> <id>...");
        return new MsidSemantic(tokens[0], tokens[1..]);
    }

    public static DtlsFingerprint Fingerprint(SdpLineContext line, string value)
    {
        var tokens = line.Split(value, 2, "a=fingerprint:<hash-function> <fingerprint>");
        return new DtlsFingerprint(tokens[0].ToLowerInvariant(), tokens[1]);
    }

    public static DtlsSetup Setup(SdpLineContext line, string value) =>
        DtlsSetupText.TryParse(value.Trim(), out var setup)
            ? setup
            : throw line.Fail("a=setup must be actpass, active, passive or holdconn");

    public static IceCandidate Candidate(SdpLineContext line, string value)
    {
        var tokens = line.Split(value, 8, "a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>");
        if (tokens[6] != "typ")
        {
            throw line.Fail("candidate is missing 'typ' after the port");
        }

        return new IceCandidate(
            tokens[0],
            line.ParseInt(tokens[1], "candidate component", 1, 256),
            tokens[2],
            line.ParseUInt(tokens[3], "candidate priority"),
            tokens[4],
            line.ParseInt(tokens[5], "candidate port", 0, 65535),
            tokens[7],
            tokens.Length > 8 ? string.Join(' ', tokens[8..]) : null);
    }

    public static RtpHeaderExtension Extmap(SdpLineContext line, string value)
    {
        var tokens = line.Split(value, 2, "a=extmap:<id>[/<direction>] <uri>");
        var idText = tokens[0];
        MediaDirection? direction = null;
        var slash = idText.IndexOf('/');
        if (slash >= 0)
        {
            if (!MediaDirectionExtensions.TryParse(idText[(slash + 1)..], out var parsed))
            {
                throw line.Fail("extmap direction must be sendrecv, sendonly, recvonly or inactive");
            }

            direction = parsed;
            idText = idText[..slash];
        }

        // RFC 8285: 1-14 for one-byte headers, up to 255 with two-byte headers.
        var id = line.ParseInt(idText, "extmap id", 1, 255);
        return new RtpHeaderExtension(id, tokens[1], direction, tokens.Length > 2 ? string.Join(' ', tokens[2..]) : null);
    }

    public static Msid Msid(SdpLineContext line, string value)
    {
        var tokens = line.Split(value, 1, "a=msid:<stream-id> [<track-id>]");
        return new Msid(tokens[0], tokens.Length > 1 ? tokens[1] : null);
    }

    public static (uint Ssrc, SdpAttribute Attribute) Ssrc(SdpLineContext line, string value)
    {
        var space = value.IndexOf(' ');
        if (space <= 0 || space == value.Length - 1)
        {
            throw line.Fail("expected a=ssrc:<ssrc> <attribute>[:<value>]");
        }

        var ssrc = line.ParseUInt(value[..space], "ssrc");
        var rest = value[(space + 1)..];
        var colon = rest.IndexOf(':');
        var attribute = colon < 0 ? new SdpAttribute(rest, null) : new SdpAttribute(rest[..colon], rest[(colon + 1)..]);
        return (ssrc, attribute);
    }

    public static SsrcGroup SsrcGroup(SdpLineContext line, string value)
    {
        var tokens = line.Split(value, 2, "a=ssrc-group:<semantics> <ssrc>...");
        return new SsrcGroup(tokens[0], tokens[1..].Select(t => line.ParseUInt(t, "ssrc-group ssrc")).ToArray());
    }

    public static RidDescription Rid(SdpLineContext line, string value)
    {
        var tokens = line.Split(value, 2, "a=rid:<id> send|recv [<restrictions>]");
        var direction = tokens[1] switch
        {
            "send" => RidDirection.Send,
            "recv" => RidDirection.Recv,
            _ => throw line.Fail("rid direction must be 'send' or 'recv'"),
        };
        var restrictions = tokens.Length > 2 ? FormatParameters.Parse(string.Join(' ', tokens[2..])) : new FormatParameters();
        return new RidDescription(tokens[0], direction, restrictions);
    }

    public static SimulcastDescription Simulcast(SdpLineContext line, string value)
    {
        var tokens = line.Split(value, 2, "a=simulcast:send|recv <rid-list> [send|recv <rid-list>]");
        if (tokens.Length is not (2 or 4))
        {
            throw line.Fail("a=simulcast must be one or two '<direction> <rid-list>' pairs");
        }

        var result = new SimulcastDescription();
        for (var i = 0; i < tokens.Length; i += 2)
        {
            var target = tokens[i] switch
            {
                "send" => result.Send,
                "recv" => result.Recv,
                _ => throw line.Fail("simulcast direction must be 'send' or 'recv'"),
            };
            if (target.Count > 0)
            {
                throw line.Fail($"simulcast lists '{tokens[i]}' twice");
            }

            foreach (var stream in tokens[i + 1].Split(';'))
            {
                var alternatives = stream.Split(',')
                    .Select(rid => rid.StartsWith('~') ? new SimulcastRid(rid[1..], Paused: true) : new SimulcastRid(rid))
                    .ToArray();
                if (Array.Exists(alternatives, a => a.Id.Length == 0))
                {
                    throw line.Fail("simulcast rid list has an empty rid");
                }

                target.Add(alternatives);
            }
        }

        return result;
    }

    public static (int PayloadType, string Name, int ClockRate, int? Channels) Rtpmap(SdpLineContext line, string value)
    {
        var tokens = line.Split(value, 2, "a=rtpmap:<payload type> <encoding>/<clock rate>[/<channels>]");
        var pt = line.ParseInt(tokens[0], "payload type", 0, 127);
        var parts = tokens[1].Split('/');
        if (parts.Length is < 2 or > 3 || parts[0].Length == 0)
        {
            throw line.Fail("rtpmap encoding must be <name>/<clock rate>[/<channels>]");
        }

        var clockRate = line.ParseInt(parts[1], "clock rate", 1, int.MaxValue);
        int? channels = parts.Length == 3 ? line.ParseInt(parts[2], "channel count", 1, 255) : null;
        return (pt, parts[0], clockRate, channels);
    }

    /// <summary>Splits "&lt;pt or *&gt; &lt;rest&gt;" used by fmtp and rtcp-fb; pt is -1 for "*".</summary>
    public static (int PayloadType, string Value) PayloadTypeAndRest(SdpLineContext line, string value, string name)
    {
        var space = value.IndexOf(' ');
        if (space <= 0)
        {
            throw line.Fail($"expected a={name}:<payload type> <value>");
        }

        var ptText = value[..space];
        var pt = ptText == "*" ? -1 : line.ParseInt(ptText, "payload type", 0, 127);
        return (pt, value[(space + 1)..].Trim());
    }

    public static RtcpFeedback Feedback(SdpLineContext line, string rest)
    {
        var tokens = line.Split(rest, 1, "a=rtcp-fb:<payload type> <type> [<parameter>]");
        return new RtcpFeedback(tokens[0], tokens.Length > 1 ? string.Join(' ', tokens[1..]) : null);
    }
}
