namespace Sfu.Media.Sctp;

/// <summary>Why an association dropped a packet, a chunk or a message. Each is counted in <see cref="SctpCounters"/>.</summary>
public enum SctpDropReason
{
    /// <summary>A packet whose CRC32c did not match, or too short for the common header.</summary>
    Checksum,

    /// <summary>A chunk too short for its type, or a chunk length past the packet's end.</summary>
    Malformed,

    /// <summary>A packet for another association (verification tag or port).</summary>
    VerificationTag,

    /// <summary>A chunk type this association does not implement.</summary>
    UnknownChunk,

    /// <summary>DATA beyond the receive window (in TSNs or in buffered bytes); the peer retransmits it.</summary>
    ReceiveWindow,

    /// <summary>A reassembled message above the maximum message size.</summary>
    MessageTooLarge,

    /// <summary>A COOKIE-ECHO whose HMAC does not verify or that is older than the cookie lifetime.</summary>
    BadCookie,

    /// <summary>A message refused by <see cref="SctpAssociation.Send"/> because the send buffer was full.</summary>
    SendBufferFull,

    /// <summary>A partially reliable message given up (retransmission limit or lifetime reached).</summary>
    Abandoned,

    Count,
}

/// <summary>
/// What one association did, as plain fields its single owner thread increments; whoever exports metrics reads them.
/// </summary>
public sealed class SctpCounters
{
    private readonly long[] _drops = new long[(int)SctpDropReason.Count];

    public long MessagesSent { get; internal set; }

    public long BytesSent { get; internal set; }

    public long MessagesReceived { get; internal set; }

    public long BytesReceived { get; internal set; }

    public long Retransmissions { get; internal set; }

    public long Drops(SctpDropReason reason) => _drops[(int)reason];

    internal void Drop(SctpDropReason reason) => _drops[(int)reason]++;
}
