namespace Sfu.Media.Srtp;

/// <summary>
/// Outcome of protecting or unprotecting one packet. Failures are expected on the network
/// (forged, replayed, truncated datagrams), so they are values, not exceptions.
/// </summary>
public enum SrtpStatus
{
    Ok = 0,

    /// <summary>The authentication tag did not match: forged, corrupted, or keyed differently.</summary>
    AuthFailed,

    /// <summary>The packet index is older than the replay window reaches.</summary>
    ReplayOld,

    /// <summary>A packet with this index was already accepted.</summary>
    ReplayDuplicate,

    /// <summary>Too short, not version 2, or a header that runs past the end.</summary>
    Malformed,

    /// <summary>The buffer has no room for the tag (and SRTCP index) that protection appends.</summary>
    BufferTooSmall,

    /// <summary>The context already tracks its maximum number of SSRCs; the packet is dropped.</summary>
    TooManyStreams,
}
