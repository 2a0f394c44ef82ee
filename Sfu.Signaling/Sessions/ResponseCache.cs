using Sfu.Signaling.Protocol;

namespace Sfu.Signaling.Sessions;

/// <summary>
/// Remembers which request ids a session has seen, and the exact response each got, so that a request
/// repeated after a reconnect is answered again instead of executed twice. Keeps the most recent ids only, and
/// lets go of a response's bytes once the client acknowledged its <c>seq</c> (it has it, so it will not ask
/// again): thousands of sessions pinging must not each keep hundreds of old responses alive.
/// Not thread-safe; the owning session serialises access.
/// </summary>
internal sealed class ResponseCache(int capacity)
{
    private readonly Dictionary<RequestId, byte[]?> _responses = [];
    private readonly Queue<RequestId> _order = new();
    private readonly Queue<(long Seq, RequestId Id)> _unacknowledged = new();
    private readonly HashSet<RequestId> _answeredAndAcknowledged = [];

    public enum Lookup { New, InFlight, Answered }

    /// <summary>
    /// Registers <paramref name="id"/> as in flight unless it was seen before. For an answered request,
    /// <paramref name="storedResponse"/> is its response, or null when the client already acknowledged it.
    /// </summary>
    public Lookup Begin(RequestId id, out byte[]? storedResponse)
    {
        if (_responses.TryGetValue(id, out storedResponse))
            return storedResponse is null && !_answeredAndAcknowledged.Contains(id) ? Lookup.InFlight : Lookup.Answered;

        if (_order.Count == capacity)
        {
            var oldest = _order.Dequeue();
            _responses.Remove(oldest);
            _answeredAndAcknowledged.Remove(oldest);
        }
        _responses.Add(id, null);
        _order.Enqueue(id);
        return Lookup.New;
    }

    /// <summary>Stores the response of a request registered by <see cref="Begin"/> (ignored if it was evicted).</summary>
    public void Complete(RequestId id, long seq, byte[] response)
    {
        if (!_responses.ContainsKey(id)) return;
        _responses[id] = response;
        _unacknowledged.Enqueue((seq, id));
    }

    /// <summary>Drops the bytes of responses the client has (<c>seq &lt;= lastSeq</c>), keeping their ids answered.</summary>
    public void Acknowledge(long lastSeq)
    {
        while (_unacknowledged.TryPeek(out var entry) && entry.Seq <= lastSeq)
        {
            _unacknowledged.Dequeue();
            if (_responses.ContainsKey(entry.Id))
            {
                _responses[entry.Id] = null;
                _answeredAndAcknowledged.Add(entry.Id);
            }
        }
    }
}
