using System.Collections.Concurrent;

namespace Sfu.Server.WebSockets;

/// <summary>
/// Counts open signaling sockets per remote IP address and refuses one more past the limit, so that one host cannot
/// hold thousands of descriptors (and their buffers) open. Addresses with no socket left are forgotten.
/// </summary>
internal sealed class SocketsPerAddress(int limit)
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    /// <summary>Counts one more socket from <paramref name="address"/>; false (and nothing counted) at the limit.</summary>
    public bool TryAdd(string address)
    {
        while (true)
        {
            if (!_open.TryGetValue(address, out var count))
            {
                if (_open.TryAdd(address, 1)) return true;
                continue;
            }
            if (count >= limit) return false;
            if (_open.TryUpdate(address, count + 1, count)) return true;
        }
    }

    public void Remove(string address)
    {
        while (true)
        {
            var count = _open[address];
            if (count == 1 ? _open.TryRemove(new KeyValuePair<string, int>(address, 1)) : _open.TryUpdate(address, count - 1, count)) return;
        }
    }
}
