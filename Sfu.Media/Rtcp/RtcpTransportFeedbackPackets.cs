using System.Buffers.Binary;

namespace Sfu.Media.Rtcp;

/// <summary>One packet a transport-cc feedback reports on.</summary>
/// <param name="SequenceNumber">Its transport-wide sequence number.</param>
/// <param name="Received">Whether it arrived; a packet not received has no delta.</param>
/// <param name="DeltaMicroseconds">
/// Arrival time minus the previous received packet's (the first one's: minus the reference time), in µs; the
/// wire unit is 250 µs, and a large delta may be negative (reordering).
/// </param>
public readonly record struct TransportFeedbackPacket(ushort SequenceNumber, bool Received, long DeltaMicroseconds);

// The reading side: each packet in turn, without allocating. Kept apart from the writer on purpose.
public readonly ref partial struct RtcpTransportFeedback
{
    /// <summary>The wire unit of a receive delta (draft section 3.1.5).</summary>
    public const int DeltaUnitMicroseconds = 250;

    /// <summary>The wire unit of the reference time (draft section 3.1).</summary>
    public const long ReferenceTimeUnitMicroseconds = 64_000;

    /// <summary>The reference time in µs (the receiver's clock, meaningful only in differences between feedbacks).</summary>
    public long ReferenceTimeMicroseconds => ReferenceTime * ReferenceTimeUnitMicroseconds;

    /// <summary>Every packet from <see cref="BaseSequenceNumber"/> on, in sequence order, received or not.</summary>
    public PacketEnumerator GetPackets() => new(_fci, _deltasOffset);

    /// <summary>Walks status chunks and receive deltas side by side; the packet was checked whole by TryParse.</summary>
    public ref struct PacketEnumerator
    {
        private readonly ReadOnlySpan<byte> _fci;
        private int _chunkOffset;
        private int _deltaOffset;
        private int _remaining;
        private ushort _sequence;
        private int _chunk;
        private int _symbolsLeftInChunk;
        private int _symbolIndex;

        internal PacketEnumerator(ReadOnlySpan<byte> fci, int deltasOffset)
        {
            _fci = fci;
            _chunkOffset = FixedFciLength;
            _deltaOffset = deltasOffset;
            _remaining = fci.IsEmpty ? 0 : BinaryPrimitives.ReadUInt16BigEndian(fci[2..]);
            _sequence = fci.IsEmpty ? (ushort)0 : BinaryPrimitives.ReadUInt16BigEndian(fci);
            Current = default;
        }

        public TransportFeedbackPacket Current { get; private set; }

        public readonly PacketEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_remaining == 0) return false;
            if (_symbolsLeftInChunk == 0)
            {
                _chunk = BinaryPrimitives.ReadUInt16BigEndian(_fci[_chunkOffset..]);
                _chunkOffset += 2;
                _symbolIndex = 0;
                _symbolsLeftInChunk = Math.Min(
                    (_chunk & 0x8000) == 0 ? _chunk & 0x1FFF : (_chunk & 0x4000) != 0 ? 7 : 14,
                    _remaining);
            }

            var symbol = Symbol();
            _symbolIndex++;
            _symbolsLeftInChunk--;
            _remaining--;
            long delta = 0;
            if (symbol == 1)
            {
                delta = _fci[_deltaOffset] * DeltaUnitMicroseconds;
                _deltaOffset += 1;
            }
            else if (symbol == 2)
            {
                delta = BinaryPrimitives.ReadInt16BigEndian(_fci[_deltaOffset..]) * (long)DeltaUnitMicroseconds;
                _deltaOffset += 2;
            }

            Current = new TransportFeedbackPacket(_sequence++, symbol != 0, delta);
            return true;
        }

        // 0 not received, 1 small delta, 2 large (or negative) delta.
        private readonly int Symbol()
        {
            if ((_chunk & 0x8000) == 0) return (_chunk >> 13) & 0x03;
            return (_chunk & 0x4000) != 0 ? (_chunk >> (12 - (2 * _symbolIndex))) & 0x03 : (_chunk >> (13 - _symbolIndex)) & 0x01;
        }
    }
}
