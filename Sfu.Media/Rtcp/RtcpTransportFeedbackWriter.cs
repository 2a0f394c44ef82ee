using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Sfu.Media.Rtcp;

/// <summary>
/// Builds one transport-wide congestion control feedback packet (draft-holmer-rmcat-transport-wide-cc-extensions-01
/// section 3.1, RTPFB FMT 15), packet by packet, the way libwebrtc's receiver encodes it: the reference time is the
/// base packet's arrival rounded down to 64 ms, each receive delta is counted from the previous reported arrival in
/// 250 µs units (one byte for 0..255, else two bytes signed), and the status symbols are packed greedily into
/// run-length, 1-bit and 2-bit vector chunks. <see cref="TryAddReceived"/> refuses a packet that would not fit (a
/// delta beyond 16 bits, a sequence number not newer than the last, or the size bound); the caller then writes this
/// packet and starts the next one from the refused packet. Reusable and allocation-free after construction.
/// </summary>
public sealed class RtcpTransportFeedbackWriter
{
    /// <summary>Header, the two SSRCs, base sequence number, status count, reference time and feedback count.</summary>
    public const int HeaderLength = RtcpFeedback.CommonLength + 8;

    private const long DeltaTickMicroseconds = 250;
    private const long ReferenceTickMicroseconds = 64_000;
    private const long ReferenceWrap = 1 << 24;
    private const int MaxStatusCount = ushort.MaxValue;

    private readonly ushort[] _chunks;
    private readonly short[] _deltas;
    private PendingChunk _pending;
    private int _chunkCount;
    private int _deltaCount;
    private int _deltaBytes;
    private int _statusCount;
    private ushort _baseSequence;
    private int _referenceTime;
    private byte _feedbackCount;
    private long _lastArrival;

    /// <param name="maxLength">The largest packet to write, padding included (at least 24 bytes; the MTU bounds it).</param>
    public RtcpTransportFeedbackWriter(int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, HeaderLength + 4);
        MaxLength = maxLength & ~3;
        _chunks = new ushort[(MaxLength - HeaderLength) / 2];
        _deltas = new short[MaxLength - HeaderLength];
    }

    public int MaxLength { get; }

    /// <summary>Packets reported on so far, received or not.</summary>
    public int PacketStatusCount => _statusCount;

    public int ReceivedCount => _deltaCount;

    /// <summary>The packet's length once written: header, chunks, deltas, padded to 32 bits.</summary>
    public int Length => (UnpaddedLength + 3) & ~3;

    private int UnpaddedLength => HeaderLength + (2 * (_chunkCount + (_pending.Count > 0 ? 1 : 0))) + _deltaBytes;

    /// <summary>Starts a packet whose first reported packet is <paramref name="baseSequence"/>, which arrived at <paramref name="baseArrivalMicroseconds"/>.</summary>
    public void Reset(ushort baseSequence, long baseArrivalMicroseconds, byte feedbackCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(baseArrivalMicroseconds);
        long ticks = baseArrivalMicroseconds / ReferenceTickMicroseconds;
        _baseSequence = baseSequence;
        _referenceTime = (int)(ticks % ReferenceWrap);
        _lastArrival = ticks * ReferenceTickMicroseconds;
        _feedbackCount = feedbackCount;
        _pending = default;
        _chunkCount = _deltaCount = _deltaBytes = _statusCount = 0;
    }

    /// <summary>
    /// Reports <paramref name="sequence"/> received at <paramref name="arrivalMicroseconds"/>, and every packet between
    /// the last one reported and it as not received. False, with nothing changed, when it does not fit in this packet.
    /// </summary>
    public bool TryAddReceived(ushort sequence, long arrivalMicroseconds)
    {
        long delta = RoundToDeltaTicks(arrivalMicroseconds - _lastArrival);
        if (delta is < short.MinValue or > short.MaxValue)
        {
            return false;
        }

        int missing = (ushort)(sequence - _baseSequence) - _statusCount;
        if (missing < 0 || _statusCount + missing + 1 > MaxStatusCount)
        {
            return false;
        }

        PendingChunk pending = _pending;
        int chunkCount = _chunkCount;
        int symbol = delta is >= 0 and <= byte.MaxValue ? 1 : 2;
        if (!TryAddSymbols(0, missing) || !TryAddSymbols(symbol, 1) || _deltaCount == _deltas.Length
            || UnpaddedLength + symbol > MaxLength)
        {
            _pending = pending;
            _chunkCount = chunkCount;
            return false;
        }

        _deltas[_deltaCount++] = (short)delta;
        _deltaBytes += symbol;
        _statusCount += missing + 1;
        _lastArrival += delta * DeltaTickMicroseconds;
        return true;
    }

    /// <summary>Writes the packet built so far; false if nothing was added or <paramref name="destination"/> is too small.</summary>
    public bool TryWrite(Span<byte> destination, uint senderSsrc, uint mediaSsrc, out int written)
    {
        written = Length;
        if (_statusCount == 0 || destination.Length < written)
        {
            written = 0;
            return false;
        }

        RtcpFeedback.WriteCommon(destination, RtcpPacketType.TransportFeedback, RtcpPacketType.FmtTransportWideCc, written, senderSsrc, mediaSsrc);
        Span<byte> fci = destination[RtcpFeedback.CommonLength..];
        BinaryPrimitives.WriteUInt16BigEndian(fci, _baseSequence);
        BinaryPrimitives.WriteUInt16BigEndian(fci[2..], (ushort)_statusCount);
        fci[4] = (byte)(_referenceTime >> 16);
        fci[5] = (byte)(_referenceTime >> 8);
        fci[6] = (byte)_referenceTime;
        fci[7] = _feedbackCount;
        int offset = HeaderLength;
        for (int i = 0; i < _chunkCount; i++, offset += 2)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[offset..], _chunks[i]);
        }

        if (_pending.Count > 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[offset..], _pending.EncodeLast());
            offset += 2;
        }

        for (int i = 0; i < _deltaCount; i++)
        {
            short delta = _deltas[i];
            if (delta is >= 0 and <= byte.MaxValue)
            {
                destination[offset++] = (byte)delta;
            }
            else
            {
                BinaryPrimitives.WriteInt16BigEndian(destination[offset..], delta);
                offset += 2;
            }
        }

        // RTCP padding (RFC 3550 section 6.4.1), as libwebrtc pads this packet: zeros, then the padding length.
        int padding = written - offset;
        if (padding > 0)
        {
            destination[offset..(written - 1)].Clear();
            destination[written - 1] = (byte)padding;
            destination[0] |= 0x20;
        }

        return true;
    }

    // Rounds half away from zero, so that the quantisation error of one delta never exceeds half a tick; the next
    // delta is taken from the quantised arrival, so errors do not add up.
    private static long RoundToDeltaTicks(long microseconds) =>
        microseconds >= 0
            ? (microseconds + (DeltaTickMicroseconds / 2)) / DeltaTickMicroseconds
            : (microseconds - (DeltaTickMicroseconds / 2)) / DeltaTickMicroseconds;

    private bool TryAddSymbols(int symbol, int count)
    {
        while (count > 0)
        {
            if (_pending.CanAdd(symbol))
            {
                count -= _pending.Add(symbol, count);
            }
            else if (_chunkCount == _chunks.Length)
            {
                return false;
            }
            else
            {
                _chunks[_chunkCount++] = _pending.Emit();
            }
        }

        return true;
    }

    /// <summary>
    /// The chunk being filled. It stays open as long as some chunk kind can still hold all its symbols: any 7 fit a
    /// 2-bit vector, 14 without a large delta fit a 1-bit vector, and up to 8191 equal ones fit a run.
    /// </summary>
    private struct PendingChunk
    {
        private const int TwoBitCapacity = 7;
        private const int OneBitCapacity = 14;
        private const int RunCapacity = 0x1FFF;

        private Symbols _symbols;
        private bool _mixed;
        private bool _hasLarge;

        public int Count { get; private set; }

        public readonly bool CanAdd(int symbol) =>
            Count < TwoBitCapacity
            || (Count < OneBitCapacity && !_hasLarge && symbol != 2)
            || (Count < RunCapacity && !_mixed && _symbols[0] == symbol);

        /// <summary>Adds up to <paramref name="count"/> copies of <paramref name="symbol"/> (a run takes many at once); returns how many.</summary>
        public int Add(int symbol, int count)
        {
            int taken = 1;
            if (Count >= OneBitCapacity)
            {
                // Only a run gets this long (see CanAdd); vectors need every symbol kept, a run only the first.
                taken = Math.Min(count, RunCapacity - Count);
            }
            else
            {
                if (Count < OneBitCapacity)
                {
                    _symbols[Count] = (byte)symbol;
                }

                _mixed |= Count > 0 && _symbols[0] != symbol;
                _hasLarge |= symbol == 2;
            }

            Count += taken;
            return taken;
        }

        /// <summary>Encodes a full chunk and keeps whatever symbols it could not take.</summary>
        public ushort Emit()
        {
            if (!_mixed)
            {
                ushort run = EncodeRun();
                this = default;
                return run;
            }

            if (Count == OneBitCapacity)
            {
                ushort vector = EncodeOneBit();
                this = default;
                return vector;
            }

            // Seven or more symbols with a large delta among the first seven: a 2-bit chunk takes seven.
            ushort chunk = EncodeTwoBit(TwoBitCapacity);
            int rest = Count - TwoBitCapacity;
            Symbols left = default;
            for (int i = 0; i < rest; i++)
            {
                left[i] = _symbols[TwoBitCapacity + i];
            }

            this = default;
            for (int i = 0; i < rest; i++)
            {
                Add(left[i], 1);
            }

            return chunk;
        }

        public readonly ushort EncodeLast() => !_mixed ? EncodeRun() : Count <= TwoBitCapacity ? EncodeTwoBit(Count) : EncodeOneBit();

        private readonly ushort EncodeRun() => (ushort)((_symbols[0] << 13) | Count);

        private readonly ushort EncodeOneBit()
        {
            int chunk = 0x8000;
            for (int i = 0; i < Count; i++)
            {
                chunk |= _symbols[i] << (OneBitCapacity - 1 - i);
            }

            return (ushort)chunk;
        }

        private readonly ushort EncodeTwoBit(int count)
        {
            int chunk = 0xC000;
            for (int i = 0; i < count; i++)
            {
                chunk |= _symbols[i] << (2 * (TwoBitCapacity - 1 - i));
            }

            return (ushort)chunk;
        }
    }

    [InlineArray(14)]
    private struct Symbols
    {
        private byte _element;
    }
}
