using System.Buffers;

namespace Sfu.Media.Rtp;

/// <summary>
/// The retransmission buffer of one producer stream: copies of the last <see cref="Capacity"/> packets in a
/// ring keyed by sequence number, so a NACK can be answered. Storage is rented once at construction; storing
/// and looking up never allocate. A slot whose packet was overwritten, or that falls behind the newest packet
/// by a full ring, is not returned. The storage is rented when the first packet arrives, not before: a track that
/// was signalled but never sends (or an offer with hundreds of m-lines) reserves nothing. Not thread-safe: the
/// receive loop owns it.
/// </summary>
public sealed class RtpPacketCache : IDisposable
{
    public const int DefaultCapacity = 512;
    public const int DefaultMaxPacketLength = 1500;

    private const long Empty = long.MinValue;

    private readonly int _maxPacketLength;
    private readonly int _mask;
    private readonly int[] _lengths;
    private readonly long[] _sequences; // extended sequence number stored in each slot, or Empty
    private byte[]? _storage;
    private bool _disposed;
    private long _highest = Empty;

    /// <param name="capacity">Packets kept; a power of two (512 holds about a second of 4 Mbit/s video).</param>
    /// <param name="maxPacketLength">Larger packets are not cached.</param>
    public RtpPacketCache(int capacity = DefaultCapacity, int maxPacketLength = DefaultMaxPacketLength)
    {
        if (capacity <= 0 || (capacity & (capacity - 1)) != 0 || capacity > 32768)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), "A power of two up to 32768, half the sequence space.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPacketLength);
        Capacity = capacity;
        _mask = capacity - 1;
        _maxPacketLength = maxPacketLength;
        _lengths = new int[capacity];
        _sequences = new long[capacity];
        Clear();
    }

    public int Capacity { get; }

    /// <summary>Copies <paramref name="packet"/> in; false when it is too large or older than the window.</summary>
    public bool Store(ushort sequenceNumber, ReadOnlySpan<byte> packet)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        byte[] storage = _storage ??= ArrayPool<byte>.Shared.Rent(Capacity * _maxPacketLength);
        if (packet.Length > _maxPacketLength)
        {
            return false;
        }

        long extended = _highest == Empty ? 0x10000 + sequenceNumber : Extend(sequenceNumber);
        if (_highest != Empty && extended <= _highest - Capacity)
        {
            return false;
        }

        int slot = (int)(extended & _mask);
        packet.CopyTo(storage.AsSpan(slot * _maxPacketLength));
        _lengths[slot] = packet.Length;
        _sequences[slot] = extended;
        if (_highest == Empty || extended > _highest)
        {
            _highest = extended;
        }

        return true;
    }

    /// <summary>
    /// The stored copy of <paramref name="sequenceNumber"/>. The span stays valid until the slot is reused,
    /// so send (or copy) it before storing more packets.
    /// </summary>
    public bool TryGet(ushort sequenceNumber, out ReadOnlySpan<byte> packet)
    {
        packet = default;
        byte[]? storage = _storage;
        if (storage is null || _highest == Empty)
        {
            return false;
        }

        long extended = Extend(sequenceNumber);
        if (extended > _highest || extended <= _highest - Capacity)
        {
            return false;
        }

        int slot = (int)(extended & _mask);
        if (_sequences[slot] != extended)
        {
            return false;
        }

        packet = storage.AsSpan(slot * _maxPacketLength, _lengths[slot]);
        return true;
    }

    /// <summary>Forgets every packet (for example when the producer's SSRC changes).</summary>
    public void Clear()
    {
        Array.Fill(_sequences, Empty);
        _highest = Empty;
    }

    public void Dispose()
    {
        _disposed = true;
        byte[]? storage = Interlocked.Exchange(ref _storage, null);
        if (storage is not null)
        {
            ArrayPool<byte>.Shared.Return(storage);
        }
    }

    private long Extend(ushort sequenceNumber) => _highest + (short)(sequenceNumber - (ushort)_highest);
}
