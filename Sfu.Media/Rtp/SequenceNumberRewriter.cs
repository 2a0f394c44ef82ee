namespace Sfu.Media.Rtp;

/// <summary>
/// Maps the sequence numbers and timestamps of whatever source a consumer currently forwards onto one
/// continuous outgoing stream. Within a source the mapping is a fixed offset, so reordered packets map
/// consistently and gaps stay visible to the receiver (which NACKs them). After <see cref="RequestSwitch"/>
/// (a layer or SSRC change, or a resume after a pause) the next packet continues at last + 1, its timestamp
/// advanced by the wall-clock time since the last forwarded packet, and anything older than that packet is
/// dropped, because its output number would collide with what was already sent. Packets left out with
/// <see cref="Skip"/> take no number; one that arrives late (a retransmission of a packet lost upstream) still gets
/// the number its place in the stream gives it, as long as it is within the last <see cref="SkipWindow"/> packets.
/// One instance per consumer stream; not thread-safe (the receive loop owns it).
/// </summary>
public sealed class SequenceNumberRewriter
{
    /// <summary>How far back (in source packets) the skips are remembered, and so how late a packet can still be placed.</summary>
    public const int SkipWindow = 1024;

    private readonly long _clockRate;
    private readonly long _timestampFrequency;

    private bool _started;
    private bool _switchPending = true;
    private uint _ssrc;

    // Extended (wrap-free) input sequence numbers of the current source.
    private long _sourceStart;
    private long _sourceHighest;

    private ushort _sequenceOffset;

    // One bit per extended source sequence number modulo the window: set when that packet was skipped.
    private readonly ulong[] _skipped = new ulong[SkipWindow / 64];
    private uint _timestampOffset;

    // The output packet with the highest sequence number so far, and when it arrived.
    private ushort _lastSequence;
    private uint _lastTimestamp;
    private long _lastArrival;

    /// <param name="clockRate">The RTP clock rate of the stream (90000 for video, 48000 for Opus).</param>
    /// <param name="timestampFrequency">Units per second of the arrival timestamps (<see cref="TimeProvider.TimestampFrequency"/>).</param>
    public SequenceNumberRewriter(int clockRate, long timestampFrequency)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clockRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timestampFrequency);
        _clockRate = clockRate;
        _timestampFrequency = timestampFrequency;
    }

    /// <summary>The last sequence number sent, for SR/NACK bookkeeping.</summary>
    public ushort LastSequenceNumber => _lastSequence;

    public uint LastTimestamp => _lastTimestamp;

    /// <summary>The next packet passed in, whatever its SSRC, starts a new mapping continuing the output.</summary>
    public void RequestSwitch() => _switchPending = true;

    /// <summary>Whether packets of <paramref name="ssrc"/> are taken now: it is the current source, or a switch is pending.</summary>
    public bool Follows(uint ssrc) => _switchPending || ssrc == _ssrc;

    /// <summary>
    /// Leaves out one packet of the current source without a gap in the output (a temporal or spatial layer the
    /// subscriber does not get): later packets move down by one. Only the newest packet can be left out this way; an
    /// older one is a gap the subscriber already saw.
    /// </summary>
    public void Skip(uint ssrc, ushort sequenceNumber)
    {
        if (_switchPending || ssrc != _ssrc)
        {
            return;
        }

        long extended = _sourceHighest + (short)(sequenceNumber - (ushort)_sourceHighest);
        if (extended <= _sourceHighest)
        {
            return;
        }

        ForgetSkips(_sourceHighest + 1, extended);
        _skipped[SkipWord(extended)] |= SkipBit(extended);
        _sequenceOffset--;
        _sourceHighest = extended;
    }

    /// <summary>
    /// Maps one packet. Returns false when it must not be forwarded: it is from another SSRC than the current
    /// source, or it predates the packet the current mapping started with.
    /// </summary>
    /// <param name="arrivalTimestamp">When the packet arrived, in <c>timestampFrequency</c> units.</param>
    public bool TryRewrite(uint ssrc, ushort sequenceNumber, uint timestamp, long arrivalTimestamp, out ushort outSequenceNumber, out uint outTimestamp)
    {
        if (_switchPending)
        {
            StartSource(ssrc, sequenceNumber, timestamp, arrivalTimestamp);
        }
        else if (ssrc != _ssrc)
        {
            outSequenceNumber = 0;
            outTimestamp = 0;
            return false;
        }

        long extended = _sourceHighest + (short)(sequenceNumber - (ushort)_sourceHighest);
        // A late packet moves up by the skips after it: the offset went down by one at each.
        int skippedAfter = 0;
        if (extended < _sourceStart || (extended < _sourceHighest && !TryCountSkipsAfter(extended, out skippedAfter)))
        {
            outSequenceNumber = 0;
            outTimestamp = 0;
            return false;
        }

        if (extended > _sourceHighest)
        {
            ForgetSkips(_sourceHighest + 1, extended);
        }

        outSequenceNumber = (ushort)(sequenceNumber + _sequenceOffset + skippedAfter);
        outTimestamp = timestamp + _timestampOffset;
        if (extended > _sourceHighest || extended == _sourceStart)
        {
            _sourceHighest = Math.Max(_sourceHighest, extended);
            _lastSequence = outSequenceNumber;
            _lastTimestamp = outTimestamp;
            _lastArrival = arrivalTimestamp;
        }

        return true;
    }

    private void StartSource(uint ssrc, ushort sequenceNumber, uint timestamp, long arrivalTimestamp)
    {
        if (_started)
        {
            _sequenceOffset = (ushort)(_lastSequence + 1 - sequenceNumber);
            _timestampOffset = _lastTimestamp + ElapsedInClockUnits(arrivalTimestamp - _lastArrival) - timestamp;
        }
        else
        {
            // The first source passes through unchanged.
            _sequenceOffset = 0;
            _timestampOffset = 0;
            _started = true;
        }

        _ssrc = ssrc;
        // Start the extended range one cycle up so that earlier packets compare as smaller, not as wrapped.
        _sourceStart = _sourceHighest = 0x10000 + sequenceNumber;
        ForgetSkips(_sourceStart, _sourceStart);
        _switchPending = false;
    }

    /// <summary>
    /// The skips between a late packet and the newest: false when the late packet was itself skipped (it is never sent)
    /// or is older than the window remembers.
    /// </summary>
    private bool TryCountSkipsAfter(long extended, out int count)
    {
        count = 0;
        if (_sourceHighest - extended >= SkipWindow || IsSkipped(extended))
        {
            return false;
        }

        for (long i = extended + 1; i <= _sourceHighest; i++)
        {
            if (IsSkipped(i))
            {
                count++;
            }
        }

        return true;
    }

    private bool IsSkipped(long extended) => (_skipped[SkipWord(extended)] & SkipBit(extended)) != 0;

    // Extended numbers are positive, and the window a power of two: masks rather than divisions.
    private static int SkipWord(long extended) => (int)(extended & (SkipWindow - 1)) >> 6;

    private static ulong SkipBit(long extended) => 1UL << (int)(extended & 63);

    /// <summary>Clears the bits of extended numbers <paramref name="from"/> to <paramref name="to"/>: they now stand for new packets.</summary>
    private void ForgetSkips(long from, long to)
    {
        if (to - from + 1 >= SkipWindow)
        {
            Array.Clear(_skipped);
            return;
        }

        for (long i = from; i <= to; i++)
        {
            _skipped[SkipWord(i)] &= ~SkipBit(i);
        }
    }

    /// <summary>At least one tick, so the first frame of the new source never repeats the last timestamp sent.</summary>
    private uint ElapsedInClockUnits(long elapsed)
    {
        if (elapsed <= 0)
        {
            return 1;
        }

        // Seconds and remainder apart: elapsed * clockRate would overflow after a long pause.
        long seconds = elapsed / _timestampFrequency;
        long remainder = elapsed % _timestampFrequency;
        long units = (seconds * _clockRate) + (remainder * _clockRate / _timestampFrequency);
        return units <= 0 ? 1u : unchecked((uint)units);
    }
}
