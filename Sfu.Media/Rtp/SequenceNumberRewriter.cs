namespace Sfu.Media.Rtp;

/// <summary>
/// Maps the sequence numbers and timestamps of whatever source a consumer currently forwards onto one
/// continuous outgoing stream. Within a source the mapping is a fixed offset, so reordered packets map
/// consistently and gaps stay visible to the receiver (which NACKs them). After <see cref="RequestSwitch"/>
/// (a layer or SSRC change, or a resume after a pause) the next packet continues at last + 1, its timestamp
/// advanced by the wall-clock time since the last forwarded packet, and anything older than that packet is
/// dropped, because its output number would collide with what was already sent.
/// One instance per consumer stream; not thread-safe (the receive loop owns it).
/// </summary>
public sealed class SequenceNumberRewriter
{
    private readonly long _clockRate;
    private readonly long _timestampFrequency;

    private bool _started;
    private bool _switchPending = true;
    private uint _ssrc;

    // Extended (wrap-free) input sequence numbers of the current source.
    private long _sourceStart;
    private long _sourceHighest;

    private ushort _sequenceOffset;
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

    /// <summary>
    /// Leaves out one packet of the current source without a gap in the output (a temporal layer the subscriber
    /// does not get): later packets move down by one. A packet older than it that arrives late is then dropped
    /// too, because its output number would collide. Only the newest packet can be left out this way.
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

        _sequenceOffset--;
        _sourceHighest = extended;
        _sourceStart = extended + 1;
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
        if (extended < _sourceStart)
        {
            outSequenceNumber = 0;
            outTimestamp = 0;
            return false;
        }

        outSequenceNumber = (ushort)(sequenceNumber + _sequenceOffset);
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
        _switchPending = false;
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
