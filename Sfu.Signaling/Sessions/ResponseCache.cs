using Sfu.Signaling.Protocol;

namespace Sfu.Signaling.Sessions;

/// <summary>
/// Remembers the last request ids a session has seen, and how each was answered, so that a request repeated
/// after a reconnect is answered again (same bytes, same <c>seq</c>) instead of executed twice. The window is small:
/// a client repeats only what was in flight when its socket dropped.
/// Not thread-safe; the owning session serialises access.
/// </summary>
/// <remarks>
/// Sized for thousands of sessions that each ping once a second. The window is one array of slots, allocated with the
/// session and overwritten in turn, searched from the newest: a dictionary and a queue would grow through their sizes
/// during a session's first minute, and every array they left behind would be promoted and later collected from the
/// old generation. And most answers are a bare <c>ok</c> (every ping is one), kept as their <c>seq</c> alone, from which
/// the same bytes are written again, so the slots do not keep a minute of responses alive either.
/// </remarks>
internal sealed class ResponseCache
{
    private readonly Slot[] _slots;
    private int _next;

    public ResponseCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _slots = new Slot[capacity];
    }

    public enum Lookup { New, InFlight, Answered }

    /// <summary>Registers <paramref name="id"/> as in flight unless it was seen before.</summary>
    public Lookup Begin(RequestId id, out StoredResponse stored)
    {
        // Unused slots hold RequestId.None; only requests with an id can be repeated (every parsed request has one).
        if (!id.IsPresent) throw new ArgumentException("a request without an id cannot be remembered", nameof(id));
        var index = IndexOf(id);
        if (index >= 0)
        {
            stored = _slots[index].Response;
            return _slots[index].Answered ? Lookup.Answered : Lookup.InFlight;
        }

        stored = default;
        _slots[_next] = new Slot(id, Answered: false, default);
        _next = (_next + 1) % _slots.Length;
        return Lookup.New;
    }

    /// <summary>Stores the answer of a request registered by <see cref="Begin"/> (ignored if it was evicted).</summary>
    public void Complete(RequestId id, StoredResponse response)
    {
        var index = IndexOf(id);
        if (index >= 0) _slots[index] = new Slot(id, Answered: true, response);
    }

    /// <summary>
    /// The slot holding <paramref name="id"/>, newest first (a repeat is most likely recent), or -1. Slots not used
    /// yet hold <see cref="RequestId.None"/>, which no request's id equals.
    /// </summary>
    private int IndexOf(RequestId id)
    {
        for (var i = 1; i <= _slots.Length; i++)
        {
            var index = (_next - i + _slots.Length) % _slots.Length;
            if (_slots[index].Id.Equals(id)) return index;
        }
        return -1;
    }

    private readonly record struct Slot(RequestId Id, bool Answered, StoredResponse Response);
}

/// <summary>
/// How a request was answered: the exact bytes of its response, or, for a bare <c>ok</c>, only the <c>seq</c>
/// it was sent with (<see cref="Bytes"/> null).
/// </summary>
internal readonly record struct StoredResponse(long Seq, byte[]? Bytes)
{
    /// <summary>The response's bytes, as they were first sent.</summary>
    public byte[] ToMessage(RequestId id) => Bytes ?? ServerMessage.Response(id, Seq, result: null);
}
