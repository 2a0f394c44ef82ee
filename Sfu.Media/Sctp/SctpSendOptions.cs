namespace Sfu.Media.Sctp;

/// <summary>
/// How one message is delivered: ordered or not, and for partial reliability (RFC 3758) a limit on
/// retransmissions or on its lifetime, after which it is abandoned and skipped with FORWARD-TSN.
/// </summary>
public readonly record struct SctpSendOptions(bool Unordered = false, int? MaxRetransmits = null, TimeSpan? Lifetime = null)
{
    public static SctpSendOptions Reliable => default;

    public bool IsPartiallyReliable => MaxRetransmits is not null || Lifetime is not null;
}

/// <summary>What became of a message handed to <see cref="SctpAssociation.Send"/>.</summary>
public enum SctpSendStatus
{
    Queued,

    /// <summary>The send buffer's byte bound would be exceeded; nothing was queued.</summary>
    BufferFull,

    /// <summary>Empty, larger than the peer's maximum message size, or on a stream the peer did not accept.</summary>
    Invalid,

    /// <summary>The association is not established (yet, or any more).</summary>
    NotEstablished,
}
