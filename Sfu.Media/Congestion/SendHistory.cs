namespace Sfu.Media.Congestion;

/// <summary>What the sender remembers of one packet until its transport-cc feedback arrives.</summary>
/// <param name="SendTimeUs">When it left, in µs of the sender's clock.</param>
/// <param name="Size">Its size in bytes (RTP header, extensions, payload and padding).</param>
/// <param name="ProbeCluster">The probe cluster it belongs to, or 0 for media and retransmissions.</param>
public readonly record struct SentPacket(long SendTimeUs, int Size, int ProbeCluster);

/// <summary>
/// The transport-wide sequence numbers of one subscribe transport and what was sent under each: a fixed ring
/// indexed by sequence number (no allocation per packet). Everything the transport sends that carries the
/// extension takes the next number: media, retransmissions and probes alike, because the receiver reports on
/// all of them and they all load the same link. Worker thread only.
/// </summary>
public sealed class SendHistory
{
    /// <summary>Packets remembered: a few seconds at the highest rates a subscriber receives; a power of two that divides 65536.</summary>
    public const int Capacity = 8192;

    private readonly long[] _sendTime = new long[Capacity];
    private readonly int[] _size = new int[Capacity];
    private readonly int[] _probeCluster = new int[Capacity];
    private readonly ushort[] _sequence = new ushort[Capacity];
    private readonly bool[] _used = new bool[Capacity];

    /// <summary>The number the next packet sent will carry; <see cref="Add"/> moves it on.</summary>
    public ushort NextSequenceNumber { get; private set; } = (ushort)Random.Shared.Next(ushort.MaxValue + 1);

    /// <summary>Records the packet just sent under <see cref="NextSequenceNumber"/>.</summary>
    public void Add(int size, long sendTimeUs, int probeCluster)
    {
        var sequence = NextSequenceNumber;
        var slot = sequence & (Capacity - 1);
        _sendTime[slot] = sendTimeUs;
        _size[slot] = size;
        _probeCluster[slot] = probeCluster;
        _sequence[slot] = sequence;
        _used[slot] = true;
        NextSequenceNumber = (ushort)(sequence + 1);
    }

    /// <summary>The packet sent under <paramref name="sequence"/>, if it is still remembered.</summary>
    public bool TryGet(ushort sequence, out SentPacket packet)
    {
        var slot = sequence & (Capacity - 1);
        // Only the last Capacity numbers are kept: anything older (or never sent) was overwritten or is absent.
        var age = (ushort)(NextSequenceNumber - 1 - sequence);
        if (!_used[slot] || _sequence[slot] != sequence || age >= Capacity)
        {
            packet = default;
            return false;
        }
        packet = new SentPacket(_sendTime[slot], _size[slot], _probeCluster[slot]);
        return true;
    }
}
