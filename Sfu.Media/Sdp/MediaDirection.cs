namespace Sfu.Media.Sdp;

/// <summary>Direction attribute of a media section, always from the point of view of the side that wrote it.</summary>
public enum MediaDirection
{
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

public static class MediaDirectionExtensions
{
    public static bool Sends(this MediaDirection direction) => direction is MediaDirection.SendRecv or MediaDirection.SendOnly;

    public static bool Receives(this MediaDirection direction) => direction is MediaDirection.SendRecv or MediaDirection.RecvOnly;

    /// <summary>The direction an answerer writes for a given offered one when it wants to receive only (RFC 3264 section 6.1).</summary>
    public static MediaDirection AnswerAsReceiver(this MediaDirection offered) =>
        offered.Sends() ? MediaDirection.RecvOnly : MediaDirection.Inactive;

    internal static string ToSdp(this MediaDirection direction) => direction switch
    {
        MediaDirection.SendRecv => "sendrecv",
        MediaDirection.SendOnly => "sendonly",
        MediaDirection.RecvOnly => "recvonly",
        _ => "inactive",
    };

    internal static bool TryParse(string text, out MediaDirection direction)
    {
        switch (text)
        {
            case "sendrecv": direction = MediaDirection.SendRecv; return true;
            case "sendonly": direction = MediaDirection.SendOnly; return true;
            case "recvonly": direction = MediaDirection.RecvOnly; return true;
            case "inactive": direction = MediaDirection.Inactive; return true;
            default: direction = default; return false;
        }
    }
}
