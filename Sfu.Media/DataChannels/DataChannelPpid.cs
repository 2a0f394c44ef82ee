namespace Sfu.Media.DataChannels;

/// <summary>SCTP payload protocol identifiers of WebRTC data channels (RFC 8831 section 8).</summary>
public static class DataChannelPpid
{
    public const uint Control = 50;
    public const uint String = 51;
    public const uint Binary = 53;

    /// <summary>An empty message travels as one byte with these (SCTP has no empty DATA chunk).</summary>
    public const uint EmptyString = 56;
    public const uint EmptyBinary = 57;

    public static bool IsString(uint ppid) => ppid is String or EmptyString;

    public static bool IsEmpty(uint ppid) => ppid is EmptyString or EmptyBinary;
}
