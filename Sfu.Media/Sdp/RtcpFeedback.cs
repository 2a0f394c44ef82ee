namespace Sfu.Media.Sdp;

/// <summary>One a=rtcp-fb entry (RFC 4585): type ("nack", "ccm", "goog-remb", "transport-cc") and optional parameter ("pli", "fir").</summary>
public sealed record RtcpFeedback(string Type, string? Parameter = null)
{
    public static RtcpFeedback Nack { get; } = new("nack");
    public static RtcpFeedback Pli { get; } = new("nack", "pli");
    public static RtcpFeedback Fir { get; } = new("ccm", "fir");
    public static RtcpFeedback GoogRemb { get; } = new("goog-remb");
    public static RtcpFeedback TransportCc { get; } = new("transport-cc");

    public override string ToString() => Parameter is null ? Type : $"{Type} {Parameter}";
}
