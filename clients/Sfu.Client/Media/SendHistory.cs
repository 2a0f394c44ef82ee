namespace Sfu.Client.Media;

/// <summary>
/// The last few hundred packets one stream sent, by sequence number, so a NACK can be answered. Slots are
/// preallocated; storing copies into a slot and nothing allocates per packet.
/// </summary>
public sealed class SendHistory
{
    private readonly byte[][] _packets;
    private readonly int[] _lengths;
    private readonly int[] _sequences;
    private readonly Lock _gate = new();

    public SendHistory(int capacity = 512, int maxPacketSize = 1500)
    {
        _packets = new byte[capacity][];
        _lengths = new int[capacity];
        _sequences = new int[capacity];
        for (int i = 0; i < capacity; i++)
        {
            _packets[i] = new byte[maxPacketSize];
            _sequences[i] = -1;
        }
    }

    public void Store(ushort sequence, ReadOnlySpan<byte> packet)
    {
        int slot = sequence % _packets.Length;
        lock (_gate)
        {
            packet.CopyTo(_packets[slot]);
            _lengths[slot] = packet.Length;
            _sequences[slot] = sequence;
        }
    }

    /// <summary>Copies the packet sent with <paramref name="sequence"/> into <paramref name="destination"/>; 0 when it is no longer kept.</summary>
    public int TryCopy(ushort sequence, Span<byte> destination)
    {
        int slot = sequence % _packets.Length;
        lock (_gate)
        {
            if (_sequences[slot] != sequence || destination.Length < _lengths[slot])
            {
                return 0;
            }

            _packets[slot].AsSpan(0, _lengths[slot]).CopyTo(destination);
            return _lengths[slot];
        }
    }
}
