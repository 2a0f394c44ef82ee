namespace Sfu.Signaling.Sessions;

/// <summary>
/// The one socket a session currently writes to. Implemented by the host's WebSocket adapter; the
/// signaling core never sees a socket directly, so it cannot write to one it has left.
/// </summary>
public interface ISessionConnection
{
    /// <summary>A short id for logs.</summary>
    string Id { get; }

    /// <summary>The client's address as the host saw it, for logs and per-IP limits.</summary>
    string RemoteEndpoint { get; }

    /// <summary>
    /// Queues one message. Never blocks; returns false when the socket is closing (the message is dropped) or its
    /// queue is full (the connection then aborts itself). Either way the session keeps the message in its replay log.
    /// </summary>
    bool TrySend(byte[] message);

    /// <summary>
    /// Queues what a resumed client missed, in order, ahead of anything sent later. These messages stay in the session's
    /// replay log (bounded there) until the client acknowledges them, so they do not count against the queue's own bound:
    /// a client that was away for a while must be able to come back however much it missed.
    /// </summary>
    void SendReplay(IReadOnlyList<byte[]> messages);

    /// <summary>Sends what is queued, then closes with <paramref name="code"/>.</summary>
    void Close(int code, string reason);

    /// <summary>
    /// Closes with 4001 at once, dropping whatever is still queued: the session now lives on another socket,
    /// and nothing more may be written to this one.
    /// </summary>
    void Supersede();

    /// <summary>Drops the socket without a close frame (fault injection: a network that vanished).</summary>
    void Abort();
}
