namespace Sfu.Media.Rtp;

/// <summary>What one arriving packet meant to a <see cref="NackGenerator"/>.</summary>
public enum PacketArrival
{
    /// <summary>The next packet, or the first, or a jump past what is worth asking for.</summary>
    InOrder,

    /// <summary>Newer than the next expected: the packets between are now missing and due for a NACK.</summary>
    Gap,

    /// <summary>One of the missing packets (a retransmission, or a late one).</summary>
    Recovered,

    /// <summary>Older than the newest and not missing: a duplicate, or a packet already given up.</summary>
    Old,
}

/// <summary>Why missing packets were given up; each is a label value of the give-up metric.</summary>
public enum NackGiveUpReason
{
    /// <summary>Asked for the maximum number of times, a round trip apart, without an answer.</summary>
    Retries,

    /// <summary>Fell too far behind the newest packet to be of use (and beyond the caches' reach).</summary>
    TooOld,

    /// <summary>More packets missing at once than are worth asking for: a keyframe repairs faster.</summary>
    Overflow,

    Count,
}

/// <summary>
/// The receive side of NACK (RFC 4585) for one incoming stream, after libwebrtc's and mediasoup's rules: watches the
/// sequence numbers, remembers the gaps, and says which missing packets to ask for now. A new gap is due at once;
/// each missing packet is asked for again once a round trip has passed without it (the round trip is measured from
/// NACKs answered at the first request), at most <c>maxRetries</c> times, and is given up after one more round trip
/// unanswered, when it falls <see cref="MaxPacketAge"/> behind the newest, or when more go missing than
/// <c>capacity</c> holds (then all at once). Whoever drives it asks the sender for a keyframe when anything was
/// given up. Fixed-size storage, no allocation after construction; not thread-safe.
/// </summary>
public sealed class NackGenerator
{
    public const int DefaultCapacity = 256;
    public const int DefaultMaxRetries = 10;

    /// <summary>
    /// Packets this far behind the newest are given up: the producer's retransmission cache and each consumer's
    /// history (512 and 1024 packets) no longer place them correctly.
    /// </summary>
    public const int MaxPacketAge = 512;

    public static readonly TimeSpan DefaultRoundTrip = TimeSpan.FromMilliseconds(100);

    // Bounds of the measured round trip used as the retry interval: below the worker's tick it means nothing,
    // above a second the packet is useless to a live picture anyway.
    private static readonly TimeSpan MinRoundTrip = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxRoundTrip = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly int _maxRetries;
    private readonly long _minRoundTrip;
    private readonly long _maxRoundTrip;

    // Missing packets in ascending extended sequence order, with when each was last asked for and how often.
    private readonly long[] _missing;
    private readonly long[] _lastRequested;
    private readonly int[] _retries;
    private int _count;

    private readonly int[] _givenUp = new int[(int)NackGiveUpReason.Count];
    private bool _started;
    private long _highest;
    private long _roundTrip;

    public NackGenerator(TimeProvider time, int capacity = DefaultCapacity, int maxRetries = DefaultMaxRetries)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRetries);
        _time = time;
        _maxRetries = maxRetries;
        _minRoundTrip = ToTimestamp(MinRoundTrip);
        _maxRoundTrip = ToTimestamp(MaxRoundTrip);
        _roundTrip = ToTimestamp(DefaultRoundTrip);
        _missing = new long[capacity];
        _lastRequested = new long[capacity];
        _retries = new int[capacity];
    }

    /// <summary>Packets currently considered missing.</summary>
    public int MissingCount => _count;

    /// <summary>The retry interval: the smoothed time from a first NACK to the retransmission it brought.</summary>
    public TimeSpan RoundTrip => TimeSpan.FromSeconds((double)_roundTrip / _time.TimestampFrequency);

    /// <summary>Records an arriving packet (first transmission or retransmission) at <paramref name="now"/>.</summary>
    public PacketArrival OnPacketReceived(ushort sequenceNumber, long now)
    {
        if (!_started)
        {
            _started = true;
            _highest = 0x10000 + sequenceNumber;
            return PacketArrival.InOrder;
        }

        long extended = _highest + (short)(sequenceNumber - (ushort)_highest);
        if (extended <= _highest)
        {
            return Remove(extended, now) ? PacketArrival.Recovered : PacketArrival.Old;
        }

        long gap = extended - _highest - 1;
        _highest = extended;
        if (gap == 0)
        {
            return PacketArrival.InOrder;
        }

        if (gap > MaxPacketAge)
        {
            // A jump this large is the sender restarting its numbering (or a long outage): nothing to ask for.
            GiveUp(NackGiveUpReason.TooOld, _count);
            _count = 0;
            return PacketArrival.InOrder;
        }

        if (_count + gap > _missing.Length)
        {
            GiveUp(NackGiveUpReason.Overflow, _count + (int)gap);
            _count = 0;
            return PacketArrival.InOrder;
        }

        for (long s = extended - gap; s < extended; s++)
        {
            _missing[_count] = s;
            _lastRequested[_count] = 0;
            _retries[_count] = 0;
            _count++;
        }

        return PacketArrival.Gap;
    }

    /// <summary>
    /// Writes the sequence numbers due for a NACK at <paramref name="now"/> (ascending, ready for
    /// <c>RtcpNack.TryWrite</c>) and marks them requested; returns how many. What does not fit waits for the next
    /// call. Gives up packets asked for too often or fallen too far behind.
    /// </summary>
    public int CollectDue(long now, Span<ushort> destination)
    {
        int written = 0;
        int kept = 0;
        for (int i = 0; i < _count; i++)
        {
            if (_missing[i] < _highest - MaxPacketAge)
            {
                GiveUp(NackGiveUpReason.TooOld, 1);
                continue;
            }

            bool due = _retries[i] == 0 || now - _lastRequested[i] >= _roundTrip;
            if (due && _retries[i] >= _maxRetries)
            {
                GiveUp(NackGiveUpReason.Retries, 1); // the last request had its round trip
                continue;
            }

            if (due && written < destination.Length)
            {
                destination[written++] = (ushort)_missing[i];
                _lastRequested[i] = now;
                _retries[i]++;
            }

            _missing[kept] = _missing[i];
            _lastRequested[kept] = _lastRequested[i];
            _retries[kept] = _retries[i];
            kept++;
        }

        _count = kept;
        return written;
    }

    /// <summary>Forgets the stream (its sender restarted it under a new SSRC): the next packet starts it afresh.</summary>
    public void Restart()
    {
        _started = false;
        _count = 0;
    }

    /// <summary>How many packets were given up for <paramref name="reason"/> since the last call; resets the count.</summary>
    public int TakeGivenUp(NackGiveUpReason reason)
    {
        int count = _givenUp[(int)reason];
        _givenUp[(int)reason] = 0;
        return count;
    }

    private void GiveUp(NackGiveUpReason reason, int packets) => _givenUp[(int)reason] += packets;

    private bool Remove(long extended, long now)
    {
        int index = Array.BinarySearch(_missing, 0, _count, extended);
        if (index < 0)
        {
            return false;
        }

        // Only an answer to a single request tells the round trip: after a retry, which request it answers is unknown.
        if (_retries[index] == 1)
        {
            long sample = Math.Clamp(now - _lastRequested[index], _minRoundTrip, _maxRoundTrip);
            _roundTrip += (sample - _roundTrip) / 8;
        }

        int tail = _count - index - 1;
        Array.Copy(_missing, index + 1, _missing, index, tail);
        Array.Copy(_lastRequested, index + 1, _lastRequested, index, tail);
        Array.Copy(_retries, index + 1, _retries, index, tail);
        _count--;
        return true;
    }

    private long ToTimestamp(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);
}
