namespace Sfu.Media.Rtp;

/// <summary>
/// The publisher side of NACK: watches incoming sequence numbers of one stream, remembers the gaps, and
/// says which missing packets to ask for now. Each missing packet is asked for at most
/// <c>maxRetries</c> times, <c>retryInterval</c> apart, and forgotten once it arrives or falls too far
/// behind. Fixed-size storage, no allocation after construction; not thread-safe.
/// </summary>
public sealed class NackGenerator
{
    public const int DefaultCapacity = 256;
    public const int DefaultMaxRetries = 10;
    public static readonly TimeSpan DefaultRetryInterval = TimeSpan.FromMilliseconds(100);

    // A jump larger than this is a stream reset or a huge outage: asking for it all would only add load.
    private const int MaxGap = 1000;

    private readonly TimeProvider _time;
    private readonly TimeSpan _retryInterval;
    private readonly int _maxRetries;

    // Missing packets in ascending extended sequence order, with when each was last asked for.
    private readonly long[] _missing;
    private readonly long[] _lastRequested;
    private readonly int[] _retries;
    private int _count;

    private bool _started;
    private long _highest;

    public NackGenerator(TimeProvider time, int capacity = DefaultCapacity, TimeSpan? retryInterval = null, int maxRetries = DefaultMaxRetries)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRetries);
        _time = time;
        _retryInterval = retryInterval ?? DefaultRetryInterval;
        _maxRetries = maxRetries;
        _missing = new long[capacity];
        _lastRequested = new long[capacity];
        _retries = new int[capacity];
    }

    /// <summary>Packets currently considered missing.</summary>
    public int MissingCount => _count;

    /// <summary>Records an arriving packet (first transmission or retransmission).</summary>
    public void OnPacketReceived(ushort sequenceNumber)
    {
        if (!_started)
        {
            _started = true;
            _highest = 0x10000 + sequenceNumber;
            return;
        }

        long extended = _highest + (short)(sequenceNumber - (ushort)_highest);
        if (extended <= _highest)
        {
            Remove(extended); // late or retransmitted: no longer missing
            return;
        }

        long gap = extended - _highest - 1;
        if (gap > MaxGap)
        {
            _count = 0;
        }
        else
        {
            for (long s = _highest + 1; s < extended; s++)
            {
                Add(s);
            }
        }

        _highest = extended;
    }

    /// <summary>
    /// Writes the sequence numbers due for a NACK now (ascending, ready for <c>RtcpNack.TryWrite</c>) and marks
    /// them requested; returns how many. Packets asked for <c>maxRetries</c> times are given up.
    /// </summary>
    public int CollectDue(Span<ushort> destination)
    {
        long now = _time.GetTimestamp();
        int written = 0;
        int kept = 0;
        for (int i = 0; i < _count; i++)
        {
            bool due = _retries[i] == 0 || _time.GetElapsedTime(_lastRequested[i], now) >= _retryInterval;
            if (due && written < destination.Length)
            {
                destination[written++] = (ushort)_missing[i];
                _lastRequested[i] = now;
                _retries[i]++;
            }

            if (_retries[i] >= _maxRetries)
            {
                continue; // just asked for the last time: forget it
            }

            _missing[kept] = _missing[i];
            _lastRequested[kept] = _lastRequested[i];
            _retries[kept] = _retries[i];
            kept++;
        }

        _count = kept;
        return written;
    }

    private void Add(long extended)
    {
        if (_count == _missing.Length)
        {
            // Full: the oldest gap is the least likely to still be useful.
            Array.Copy(_missing, 1, _missing, 0, _count - 1);
            Array.Copy(_lastRequested, 1, _lastRequested, 0, _count - 1);
            Array.Copy(_retries, 1, _retries, 0, _count - 1);
            _count--;
        }

        _missing[_count] = extended;
        _lastRequested[_count] = 0;
        _retries[_count] = 0;
        _count++;
    }

    private void Remove(long extended)
    {
        int index = Array.BinarySearch(_missing, 0, _count, extended);
        if (index < 0)
        {
            return;
        }

        int tail = _count - index - 1;
        Array.Copy(_missing, index + 1, _missing, index, tail);
        Array.Copy(_lastRequested, index + 1, _lastRequested, index, tail);
        Array.Copy(_retries, index + 1, _retries, index, tail);
        _count--;
    }
}
