using Sfu.Media.Rtcp;

namespace Sfu.Media.Congestion;

/// <summary>
/// The receive side of transport-wide congestion control for one transport, in the manner of libwebrtc's
/// <c>RemoteEstimatorProxy</c>: <see cref="OnPacket"/> records when each transport-wide sequence number arrived (a
/// fixed ring, no allocation, called on the packet path), and the worker's tick asks <see cref="BeginFeedback"/>
/// whether feedback is due, then writes it with <see cref="TryWriteNext"/>, one RTCP packet per call.
/// <para>
/// Feedback is due every <see cref="Interval"/> (100 ms until a bitrate is known, then sized so that feedback
/// takes about 5% of the incoming rate, within 50-250 ms), or sooner once <see cref="PacketThreshold"/> packets
/// wait to be reported. Each round reports every sequence number from the first not yet reported to the newest
/// received; packets that never arrived are reported lost. A packet that arrives after it was reported lost moves
/// the start back to it, so the next round reports it received (libwebrtc does the same). A round that does not fit
/// one packet (the size bound, or a delta beyond 16 bits after a long silence) continues in the next packet.
/// </para>
/// Worker thread only.
/// </summary>
public sealed class TransportCcFeedbackRecorder
{
    /// <summary>Sequence numbers remembered; older arrivals than the newest minus this are not reported.</summary>
    public const int Capacity = 4096;

    /// <summary>Received packets waiting for feedback that make it due before the interval has passed.</summary>
    public const int PacketThreshold = 100;

    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxInterval = TimeSpan.FromMilliseconds(250);

    // libwebrtc's sizing: a feedback packet of about 28 bytes (20 of RTCP, 8 of overhead) should use no more
    // than 5% of the rate being reported on.
    private const double FeedbackBits = 28 * 8;
    private const double FeedbackShare = 0.05;

    private readonly long[] _sequences = new long[Capacity];
    private readonly long[] _arrivals = new long[Capacity];
    private readonly RtcpTransportFeedbackWriter _writer;
    private readonly long _frequency;
    private bool _started;
    private long _newest;
    private long _windowStart;
    private int _pending;
    private long _nextFeedback;
    private byte _feedbackCount;
    private uint _mediaSsrc;

    /// <param name="timestampFrequency">Ticks per second of the timestamps passed in (the worker's <see cref="TimeProvider"/>).</param>
    /// <param name="maxPacketLength">Bound of each feedback packet in bytes (within the MTU, after SRTCP's overhead).</param>
    public TransportCcFeedbackRecorder(long timestampFrequency, int maxPacketLength)
    {
        _frequency = timestampFrequency;
        _writer = new RtcpTransportFeedbackWriter(maxPacketLength);
        Interval = DefaultInterval;
        Array.Fill(_sequences, -1); // No slot holds a sequence number yet.
    }

    public TimeSpan Interval { get; private set; }

    /// <summary>Received packets not reported yet.</summary>
    public int PendingPackets => _pending;

    /// <summary>Records that <paramref name="sequence"/> (of a packet from <paramref name="ssrc"/>) arrived at <paramref name="arrival"/>.</summary>
    public void OnPacket(ushort sequence, uint ssrc, long arrival)
    {
        long unwrapped = Unwrap(sequence);
        if (unwrapped <= _newest - Capacity)
        {
            return; // Older than anything the ring still holds.
        }

        int slot = (int)(unwrapped & (Capacity - 1));
        if (_sequences[slot] == unwrapped)
        {
            return; // A duplicate: the first arrival stands.
        }

        _sequences[slot] = unwrapped;
        _arrivals[slot] = arrival;
        _mediaSsrc = ssrc;
        if (unwrapped > _newest)
        {
            _newest = unwrapped;
            _windowStart = Math.Max(_windowStart, unwrapped - Capacity + 1);
        }

        _windowStart = Math.Min(_windowStart, unwrapped);
        _pending++;
    }

    /// <summary>Sizes the interval for the rate being received, as libwebrtc does.</summary>
    public void SetBitrate(long bitsPerSecond)
    {
        double seconds = bitsPerSecond > 0 ? FeedbackBits / (FeedbackShare * bitsPerSecond) : MaxInterval.TotalSeconds;
        Interval = TimeSpan.FromSeconds(Math.Clamp(seconds, MinInterval.TotalSeconds, MaxInterval.TotalSeconds));
    }

    /// <summary>True when feedback is due at <paramref name="now"/>; the caller then writes packets until <see cref="TryWriteNext"/> says no more.</summary>
    public bool BeginFeedback(long now)
    {
        if (_pending == 0 || (now < _nextFeedback && _pending < PacketThreshold))
        {
            return false;
        }

        _nextFeedback = now + (long)(Interval.TotalSeconds * _frequency);
        _pending = 0;
        return true;
    }

    /// <summary>Writes the next feedback packet of this round into <paramref name="destination"/>; false when everything is reported.</summary>
    public bool TryWriteNext(Span<byte> destination, uint senderSsrc, out int written)
    {
        written = 0;
        long sequence = _windowStart;
        while (sequence <= _newest && !IsReceived(sequence))
        {
            sequence++;
        }

        if (sequence > _newest || destination.Length < _writer.MaxLength)
        {
            _windowStart = sequence;
            return false;
        }

        _writer.Reset((ushort)sequence, ToMicroseconds(ArrivalOf(sequence)), _feedbackCount++);
        for (; sequence <= _newest; sequence++)
        {
            if (IsReceived(sequence) && !_writer.TryAddReceived((ushort)sequence, ToMicroseconds(ArrivalOf(sequence))))
            {
                break;
            }
        }

        // Past the newest (always a received packet), or at the packet this one had no room for: the next starts there.
        _windowStart = sequence;
        return _writer.TryWrite(destination, senderSsrc, _mediaSsrc, out written);
    }

    private bool IsReceived(long sequence) => _sequences[(int)(sequence & (Capacity - 1))] == sequence;

    private long ArrivalOf(long sequence) => _arrivals[(int)(sequence & (Capacity - 1))];

    private long Unwrap(ushort sequence)
    {
        if (!_started)
        {
            _started = true;
            // Far from zero, so that packets from before the first one still unwrap to positive numbers.
            _newest = (1L << 32) + sequence;
            _windowStart = _newest;
            return _newest;
        }

        return _newest + (short)(sequence - (ushort)_newest);
    }

    // Whole seconds and the remainder apart, so that a large timestamp times a million cannot overflow.
    private long ToMicroseconds(long timestamp) =>
        (timestamp / _frequency * 1_000_000) + (timestamp % _frequency * 1_000_000 / _frequency);
}
