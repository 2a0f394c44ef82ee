namespace Sfu.Media.Sdp;

/// <summary>a=extmap (RFC 8285): local id, optional direction, URI and optional extension attributes.</summary>
public sealed record RtpHeaderExtension(int Id, string Uri, MediaDirection? Direction = null, string? Attributes = null)
{
    public override string ToString()
    {
        var id = Direction is { } d ? $"{Id}/{d.ToSdp()}" : Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Attributes is null ? $"{id} {Uri}" : $"{id} {Uri} {Attributes}";
    }
}

/// <summary>Header extension URIs the SFU understands.</summary>
public static class RtpExtensionUris
{
    public const string Mid = "urn:ietf:params:rtp-hdrext:sdes:mid";
    public const string AbsSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    public const string TransportWideCc = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    public const string AudioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
    public const string RtpStreamId = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
    public const string RepairedRtpStreamId = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
}
