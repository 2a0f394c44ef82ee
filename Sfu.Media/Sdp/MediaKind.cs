namespace Sfu.Media.Sdp;

/// <summary>The kinds of media the SFU forwards.</summary>
public enum MediaKind
{
    Audio,
    Video,
}

public static class MediaKindText
{
    public static string ToSdp(this MediaKind kind) => kind == MediaKind.Audio ? MediaDescription.AudioKind : MediaDescription.VideoKind;

    public static MediaKind? FromSdp(string kind) => kind switch
    {
        MediaDescription.AudioKind => MediaKind.Audio,
        MediaDescription.VideoKind => MediaKind.Video,
        _ => null,
    };
}
