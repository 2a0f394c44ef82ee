using Sfu.Signaling.Protocol;

namespace Sfu.Signaling.Sessions;

/// <summary>
/// Remembers the last request ids a session has seen, and the exact response each got, so that a request repeated
/// after a reconnect is answered again (same bytes, same <c>seq</c>) instead of executed twice. The window is small:
/// a client repeats only what was in flight when its socket dropped, and thousands of sessions pinging must not
/// each keep hundreds of old responses alive.
/// Not thread-safe; the owning session serialises access.
/// </summary>
internal sealed class ResponseCache(int capacity)
{
    private readonly Dictionary<RequestId, byte[]?> _responses = [];
    private readonly Queue<RequestId> _order = new();

    public enum Lookup { New, InFlight, Answered }

    /// <summary>Registers <paramref name="id"/> as in flight unless it was seen before.</summary>
    public Lookup Begin(RequestId id, out byte[]? storedResponse)
    {
        if (_responses.TryGetValue(id, out storedResponse))
            return storedResponse is null ? Lookup.InFlight : Lookup.Answered;

        if (_order.Count == capacity) _responses.Remove(_order.Dequeue());
        _responses.Add(id, null);
        _order.Enqueue(id);
        return Lookup.New;
    }

    /// <summary>Stores the response of a request registered by <see cref="Begin"/> (ignored if it was evicted).</summary>
    public void Complete(RequestId id, byte[] response)
    {
        if (_responses.ContainsKey(id)) _responses[id] = response;
    }
}
