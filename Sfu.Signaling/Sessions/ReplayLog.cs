namespace Sfu.Signaling.Sessions;

/// <summary>
/// The messages a session sent that the client has not acknowledged yet, by <c>seq</c>, so that a client
/// that reconnects gets exactly what it missed. Bounded: when full, the oldest message is forgotten and a
/// resume that needs it fails (the client then joins again) instead of silently skipping it.
/// Not thread-safe; the owning session serialises access.
/// </summary>
internal sealed class ReplayLog
{
    private readonly (long Seq, byte[] Message)[] _ring;
    private int _start;
    private int _count;

    public ReplayLog(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new (long, byte[])[capacity];
    }

    public int Count => _count;

    /// <summary>The highest <c>seq</c> the log can no longer replay (0 when nothing was lost).</summary>
    public long ForgottenUpTo { get; private set; }

    public void Append(long seq, byte[] message)
    {
        if (_count == _ring.Length)
        {
            ForgottenUpTo = _ring[_start].Seq;
            _ring[_start] = default;
            _start = (_start + 1) % _ring.Length;
            _count--;
        }
        _ring[(_start + _count) % _ring.Length] = (seq, message);
        _count++;
    }

    /// <summary>Drops messages the client says it has (<c>seq &lt;= lastSeq</c>).</summary>
    public void AcknowledgeUpTo(long lastSeq)
    {
        while (_count > 0 && _ring[_start].Seq <= lastSeq)
        {
            _ring[_start] = default;
            _start = (_start + 1) % _ring.Length;
            _count--;
        }
        if (lastSeq > ForgottenUpTo) ForgottenUpTo = lastSeq;
    }

    /// <summary>
    /// The messages after <paramref name="lastSeq"/>, oldest first; false when some of them were forgotten.
    /// </summary>
    public bool TryGetAfter(long lastSeq, List<byte[]> messages)
    {
        if (lastSeq < ForgottenUpTo) return false;
        for (var i = 0; i < _count; i++)
        {
            var (seq, message) = _ring[(_start + i) % _ring.Length];
            if (seq > lastSeq) messages.Add(message);
        }
        return true;
    }
}
