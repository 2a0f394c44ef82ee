using System.Buffers.Binary;

namespace Sfu.Media.Sctp;

/// <summary>
/// The receiving half of an association: which TSNs arrived (a bitmap window past the cumulative TSN), reassembly of
/// fragmented messages, per-stream ordering by SSN, FORWARD-TSN, incoming stream resets, and the SACK that reports
/// it all. Everything it holds is bounded by <see cref="SctpAssociationOptions.MaxReceiveBufferBytes"/>; a message
/// that arrives whole and in order goes to the listener straight from the packet, without a copy.
/// </summary>
internal sealed class SctpReceiver
{
    /// <summary>How far past the cumulative TSN a chunk may be (gap block offsets are 16-bit; this stays well inside).</summary>
    private const int TsnWindow = 16384;
    private const int MaxDuplicatesReported = 16;

    private readonly SctpAssociationOptions _options;
    private readonly SctpCounters _counters;
    private readonly ISctpAssociationListener _listener;
    private readonly ulong[] _received = new ulong[TsnWindow / 64];
    private readonly Dictionary<uint, Fragment> _fragments = [];
    private readonly Dictionary<ushort, OrderedStream> _streams = [];
    private readonly List<uint> _duplicates = [];
    private uint _highest;
    private long _bufferedBytes;

    public SctpReceiver(SctpAssociationOptions options, SctpCounters counters, ISctpAssociationListener listener, uint peerInitialTsn)
    {
        _options = options;
        _counters = counters;
        _listener = listener;
        CumulativeTsn = peerInitialTsn - 1;
        _highest = CumulativeTsn;
    }

    public uint CumulativeTsn { get; private set; }

    /// <summary>Something arrived out of order or twice: the peer needs a SACK now, not after the delayed-ack time.</summary>
    public bool ImmediateSackWanted { get; private set; }

    public uint ReceiveWindow => (uint)Math.Max(0, _options.MaxReceiveBufferBytes - _bufferedBytes);

    /// <summary>Handles one DATA chunk's value (RFC 9260 section 3.3.1); false if it was too short to be one.</summary>
    public bool OnData(byte flags, ReadOnlySpan<byte> value)
    {
        if (value.Length <= SctpSender.DataHeaderLength)
        {
            return false;
        }

        uint tsn = BinaryPrimitives.ReadUInt32BigEndian(value);
        ushort stream = BinaryPrimitives.ReadUInt16BigEndian(value[4..]);
        ushort ssn = BinaryPrimitives.ReadUInt16BigEndian(value[6..]);
        uint ppid = BinaryPrimitives.ReadUInt32BigEndian(value[8..]);
        ReadOnlySpan<byte> payload = value[SctpSender.DataHeaderLength..];

        if (!SctpSerial.IsAfter(tsn, CumulativeTsn) || IsReceived(tsn))
        {
            if (_duplicates.Count < MaxDuplicatesReported)
            {
                _duplicates.Add(tsn);
            }

            ImmediateSackWanted = true;
            return true;
        }

        bool next = tsn == CumulativeTsn + 1;
        if (tsn - CumulativeTsn > TsnWindow || (!next && _bufferedBytes + payload.Length > _options.MaxReceiveBufferBytes))
        {
            _counters.Drop(SctpDropReason.ReceiveWindow);
            ImmediateSackWanted = true;
            return true;
        }

        SetReceived(tsn);
        if (SctpSerial.IsAfter(tsn, _highest))
        {
            _highest = tsn;
        }

        if (!next)
        {
            ImmediateSackWanted = true;
        }

        AdvanceCumulative();
        if (CumulativeTsn != _highest)
        {
            ImmediateSackWanted = true;
        }

        bool unordered = (flags & 0x04) != 0;
        if ((flags & 0x03) == 0x03)
        {
            Complete(stream, ssn, ppid, unordered, payload, owned: null);
            return true;
        }

        _fragments[tsn] = new Fragment(stream, ssn, ppid, flags, payload.ToArray());
        _bufferedBytes += payload.Length;
        TryReassemble(tsn);
        return true;
    }

    /// <summary>Applies a FORWARD-TSN (RFC 3758 section 3.6): skip to the new cumulative TSN and past the SSNs it names.</summary>
    public bool OnForwardTsn(ReadOnlySpan<byte> value)
    {
        if (value.Length < 4)
        {
            return false;
        }

        ImmediateSackWanted = true;
        uint newCumulative = BinaryPrimitives.ReadUInt32BigEndian(value);
        if (SctpSerial.IsAfter(newCumulative, CumulativeTsn))
        {
            if (newCumulative - CumulativeTsn >= TsnWindow)
            {
                Array.Clear(_received);
            }
            else
            {
                for (uint tsn = CumulativeTsn + 1; tsn != newCumulative + 1; tsn++)
                {
                    ClearReceived(tsn);
                }
            }

            CumulativeTsn = newCumulative;
            if (SctpSerial.IsAfter(newCumulative, _highest))
            {
                _highest = newCumulative;
            }

            AdvanceCumulative();
            DiscardFragmentsUpTo(newCumulative);
        }

        for (int i = 4; i + 4 <= value.Length; i += 4)
        {
            ushort stream = BinaryPrimitives.ReadUInt16BigEndian(value[i..]);
            ushort ssn = BinaryPrimitives.ReadUInt16BigEndian(value[(i + 2)..]);
            OrderedStream state = StreamOf(stream);
            if (SctpSerial.IsAfter(ssn, state.NextSsn) || ssn == state.NextSsn)
            {
                foreach (ushort waiting in state.Waiting.Keys.Where(w => !SctpSerial.IsAfter(w, ssn)).ToList())
                {
                    Forget(state, waiting);
                }

                state.NextSsn = (ushort)(ssn + 1);
                DeliverWaiting(stream, state);
            }
        }

        return true;
    }

    /// <summary>The peer reset its outgoing streams (our incoming ones): they start again at SSN 0.</summary>
    public void ResetStreams(ReadOnlySpan<ushort> streams)
    {
        foreach (ushort stream in streams)
        {
            if (_streams.Remove(stream, out OrderedStream? state))
            {
                foreach (ushort waiting in state.Waiting.Keys.ToList())
                {
                    Forget(state, waiting);
                }
            }
        }
    }

    /// <summary>Writes a SACK: cumulative TSN, window, gap blocks for what arrived past it, and duplicates since the last one.</summary>
    public bool TryWriteSack(SctpPacketBuilder packet)
    {
        Span<(ushort Start, ushort End)> gaps = stackalloc (ushort, ushort)[64];
        int gapCount = 0;
        int runStart = -1;
        uint span = _highest - CumulativeTsn;
        for (uint offset = 1; offset <= span + 1 && gapCount < gaps.Length; offset++)
        {
            bool received = offset <= span && IsReceived(CumulativeTsn + offset);
            if (received && runStart < 0)
            {
                runStart = (int)offset;
            }
            else if (!received && runStart >= 0)
            {
                gaps[gapCount++] = ((ushort)runStart, (ushort)(offset - 1));
                runStart = -1;
            }
        }

        int duplicates = _duplicates.Count;
        if (!packet.TryAddChunk(SctpChunkType.Sack, 0, 12 + (4 * gapCount) + (4 * duplicates), out Span<byte> value))
        {
            return false;
        }

        BinaryPrimitives.WriteUInt32BigEndian(value, CumulativeTsn);
        BinaryPrimitives.WriteUInt32BigEndian(value[4..], ReceiveWindow);
        BinaryPrimitives.WriteUInt16BigEndian(value[8..], (ushort)gapCount);
        BinaryPrimitives.WriteUInt16BigEndian(value[10..], (ushort)duplicates);
        int at = 12;
        for (int i = 0; i < gapCount; i++, at += 4)
        {
            BinaryPrimitives.WriteUInt16BigEndian(value[at..], gaps[i].Start);
            BinaryPrimitives.WriteUInt16BigEndian(value[(at + 2)..], gaps[i].End);
        }

        foreach (uint duplicate in _duplicates)
        {
            BinaryPrimitives.WriteUInt32BigEndian(value[at..], duplicate);
            at += 4;
        }

        _duplicates.Clear();
        ImmediateSackWanted = false;
        return true;
    }

    private void TryReassemble(uint tsn)
    {
        Fragment fragment = _fragments[tsn];
        uint first = tsn;
        while ((_fragments[first].Flags & 0x02) == 0)
        {
            if (!_fragments.TryGetValue(first - 1, out Fragment? previous) || !previous.SameMessage(fragment))
            {
                return;
            }

            first--;
        }

        uint last = tsn;
        long length = fragment.Data.Length;
        for (uint t = first; t != tsn; t++)
        {
            length += _fragments[t].Data.Length;
        }

        while ((_fragments[last].Flags & 0x01) == 0)
        {
            if (!_fragments.TryGetValue(last + 1, out Fragment? following) || !following.SameMessage(fragment))
            {
                return;
            }

            last++;
            length += following.Data.Length;
        }

        byte[]? message = length <= _options.MaxMessageSize ? new byte[length] : null;
        int at = 0;
        for (uint t = first; t != last + 1; t++)
        {
            _fragments.Remove(t, out Fragment? part);
            _bufferedBytes -= part!.Data.Length;
            if (message is not null)
            {
                part.Data.CopyTo(message.AsSpan(at));
                at += part.Data.Length;
            }
        }

        if (message is null)
        {
            _counters.Drop(SctpDropReason.MessageTooLarge);
            return;
        }

        Complete(fragment.Stream, fragment.Ssn, fragment.Ppid, (fragment.Flags & 0x04) != 0, message, owned: message);
    }

    /// <summary>A whole message: delivered now if unordered or next on its stream, else kept until its turn.</summary>
    private void Complete(ushort stream, ushort ssn, uint ppid, bool unordered, ReadOnlySpan<byte> payload, byte[]? owned)
    {
        if (unordered)
        {
            Deliver(stream, ppid, payload);
            return;
        }

        OrderedStream state = StreamOf(stream);
        if (ssn == state.NextSsn)
        {
            state.NextSsn++;
            Deliver(stream, ppid, payload);
            DeliverWaiting(stream, state);
        }
        else if (SctpSerial.IsAfter(ssn, state.NextSsn) && state.Waiting.TryAdd(ssn, (ppid, owned ?? payload.ToArray())))
        {
            _bufferedBytes += payload.Length;
        }
    }

    private void DeliverWaiting(ushort stream, OrderedStream state)
    {
        while (state.Waiting.Remove(state.NextSsn, out (uint Ppid, byte[] Data) waiting))
        {
            _bufferedBytes -= waiting.Data.Length;
            state.NextSsn++;
            Deliver(stream, waiting.Ppid, waiting.Data);
        }
    }

    private void Deliver(ushort stream, uint ppid, ReadOnlySpan<byte> payload)
    {
        _counters.MessagesReceived++;
        _counters.BytesReceived += payload.Length;
        _listener.OnSctpMessage(stream, ppid, payload);
    }

    private void Forget(OrderedStream state, ushort ssn)
    {
        if (state.Waiting.Remove(ssn, out (uint Ppid, byte[] Data) waiting))
        {
            _bufferedBytes -= waiting.Data.Length;
        }
    }

    private void DiscardFragmentsUpTo(uint tsn)
    {
        foreach (uint stale in _fragments.Keys.Where(t => SctpSerial.IsAtOrBefore(t, tsn)).ToList())
        {
            _fragments.Remove(stale, out Fragment? fragment);
            _bufferedBytes -= fragment!.Data.Length;
        }
    }

    private OrderedStream StreamOf(ushort stream)
    {
        if (!_streams.TryGetValue(stream, out OrderedStream? state))
        {
            state = new OrderedStream();
            _streams[stream] = state;
        }

        return state;
    }

    private void AdvanceCumulative()
    {
        while (IsReceived(CumulativeTsn + 1))
        {
            CumulativeTsn++;
            ClearReceived(CumulativeTsn);
        }
    }

    private bool IsReceived(uint tsn) => (_received[(tsn / 64) % (TsnWindow / 64)] & (1UL << (int)(tsn % 64))) != 0;

    private void SetReceived(uint tsn) => _received[(tsn / 64) % (TsnWindow / 64)] |= 1UL << (int)(tsn % 64);

    private void ClearReceived(uint tsn) => _received[(tsn / 64) % (TsnWindow / 64)] &= ~(1UL << (int)(tsn % 64));

    private sealed record Fragment(ushort Stream, ushort Ssn, uint Ppid, byte Flags, byte[] Data)
    {
        /// <summary>Fragments of one message share stream and ordering, and for ordered ones the SSN.</summary>
        public bool SameMessage(Fragment other) =>
            Stream == other.Stream && (Flags & 0x04) == (other.Flags & 0x04) && ((Flags & 0x04) != 0 || Ssn == other.Ssn);
    }

    private sealed class OrderedStream
    {
        public ushort NextSsn { get; set; }

        public Dictionary<ushort, (uint Ppid, byte[] Data)> Waiting { get; } = [];
    }
}
