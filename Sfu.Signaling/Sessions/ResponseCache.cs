using Sfu.Signaling.Protocol;

namespace Sfu.Signaling.Sessions;

/// <summary>
/// Remembers the last request ids a session has seen, and how each was answered, so that a request repeated
/// after a reconnect is answered again (same bytes, same <c>seq</c>) instead of executed twice. The window is small:
/// a client repeats only what was in flight when its socket dropped.
/// Not thread-safe; the owning session serialises access.
/// </summary>
/// <remarks>
/// Most answers are a bare <c>ok</c> (every ping is one), and those are kept as their <c>seq</c> alone, from which
/// the same bytes are written again. Keeping the bytes of thousands of sessions' last pings for a minute would fill
/// the old generation with short-lived arrays that the garbage collector then walks in every pause.
/// </remarks>
internal sealed class ResponseCache(int capacity)
{
    private readonly Dictionary<RequestId, StoredResponse?> _responses = [];
    private readonly Queue<RequestId> _order = new();

    public enum Lookup { New, InFlight, Answered }

    /// <summary>Registers <paramref name="id"/> as in flight unless it was seen before.</summary>
    public Lookup Begin(RequestId id, out StoredResponse stored)
    {
        stored = default;
        if (_responses.TryGetValue(id, out var known))
        {
            if (known is not { } answer) return Lookup.InFlight;
            stored = answer;
            return Lookup.Answered;
        }

        if (_order.Count == capacity) _responses.Remove(_order.Dequeue());
        _responses.Add(id, null);
        _order.Enqueue(id);
        return Lookup.New;
    }

    /// <summary>Stores the answer of a request registered by <see cref="Begin"/> (ignored if it was evicted).</summary>
    public void Complete(RequestId id, StoredResponse response)
    {
        if (_responses.ContainsKey(id)) _responses[id] = response;
    }
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
