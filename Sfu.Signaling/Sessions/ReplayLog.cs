namespace Sfu.Signaling.Sessions;

/// <summary>
/// The messages a session sent that the client has not acknowledged yet, by <c>seq</c>, so that a client
/// that reconnects gets exactly what it missed. Bounded in messages and in bytes: when either is reached, the
/// oldest message is forgotten and a resume that needs it fails (the client then joins again) instead of
/// silently skipping it.
/// The ring starts small and grows to its capacity only for a client that stays away while messages pile up:
/// thousands of idle sessions must not each hold (and make the GC scan) a full-size array.
/// Not thread-safe; the owning session serialises access.
/// </summary>
internal sealed class ReplayLog
{
    private const int InitialSize = 16;

    private readonly int _capacity;
    private readonly long _maxBytes;
    private (long Seq, byte[] Message)[] _ring;
    private int _start;
    private int _count;

    /// <param name="capacity">Messages kept at most.</param>
    /// <param name="maxBytes">Bytes kept at most; a single larger message is still kept, alone.</param>
    public ReplayLog(int capacity, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        _capacity = capacity;
        _maxBytes = maxBytes;
        _ring = new (long, byte[])[Math.Min(capacity, InitialSize)];
    }

    public int Count => _count;

    /// <summary>The bytes of the messages kept.</summary>
    public long Bytes { get; private set; }

    /// <summary>The highest <c>seq</c> the log can no longer replay (0 when nothing was lost).</summary>
    public long ForgottenUpTo { get; private set; }

    public void Append(long seq, byte[] message)
    {
        if (_count == _ring.Length && _ring.Length < _capacity) Grow();
        while (_count > 0 && (_count == _ring.Length || Bytes + message.Length > _maxBytes))
        {
            ForgottenUpTo = _ring[_start].Seq;
            DropOldest();
        }
        _ring[(_start + _count) % _ring.Length] = (seq, message);
        _count++;
        Bytes += message.Length;
    }

    private void DropOldest()
    {
        Bytes -= _ring[_start].Message.Length;
        _ring[_start] = default;
        _start = (_start + 1) % _ring.Length;
        _count--;
    }

    private void Grow()
    {
        var larger = new (long, byte[])[Math.Min(_capacity, _ring.Length * 2)];
        for (var i = 0; i < _count; i++) larger[i] = _ring[(_start + i) % _ring.Length];
        _ring = larger;
        _start = 0;
    }

    /// <summary>Drops messages the client says it has (<c>seq &lt;= lastSeq</c>).</summary>
    public void AcknowledgeUpTo(long lastSeq)
    {
        while (_count > 0 && _ring[_start].Seq <= lastSeq) DropOldest();
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
