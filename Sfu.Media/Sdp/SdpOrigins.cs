namespace Sfu.Media.Sdp;

/// <summary>
/// o= lines for descriptions the server writes. RFC 8866: the session id stays the same across
/// renegotiations of one session and the version increases with every change.
/// </summary>
public static class SdpOrigins
{
    public static SdpOrigin New() =>
        new("-", Random.Shared.NextInt64(1, long.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture), 1, "IN", "IP4", "0.0.0.0");

    public static SdpOrigin Next(SdpOrigin? previous) =>
        previous is null ? New() : previous with { SessionVersion = previous.SessionVersion + 1 };
}
