namespace Sfu.Media.Sdp;

/// <summary>a=msid (RFC 8830): the MediaStream id and, optionally, the track id the m-line carries.</summary>
public sealed record Msid(string StreamId, string? TrackId)
{
    public override string ToString() => TrackId is null ? StreamId : $"{StreamId} {TrackId}";
}
