using System.Buffers.Binary;

namespace Sfu.Media.Sctp;

/// <summary>
/// The sending half of an association: the byte-bounded send buffer, TSN and SSN assignment, fragmentation into
/// DATA chunks, the retransmission queue with T3-rtx and fast retransmit, the congestion window (RFC 9260 section
/// 7), the round-trip estimate, and partial reliability (RFC 3758: abandoning messages and the FORWARD-TSN that
/// skips them).
/// </summary>
internal sealed class SctpSender
{
    public const int DataHeaderLength = 12;

    private readonly SctpAssociationOptions _options;
    private readonly SctpCounters _counters;
    private readonly int _mtu;
    private readonly int _maxChunkPayload;
    private readonly Queue<SctpOutboundMessage> _pending = new();
    private readonly List<SctpInFlightChunk> _inFlight = [];
    private readonly Dictionary<ushort, ushort> _nextSsn = [];
    private uint _nextTsn;
    private uint _cumulativeAck;
    private uint _advancedPeerAckPoint;
    private int _flightSize;
    private int _cwnd;
    private int _ssthresh;
    private int _partialBytesAcked;
    private long _peerReceiveWindow;
    private uint? _fastRecoveryExit;

    // A fast retransmission goes out at once, whatever the window (RFC 9260 section 7.2.4, rule 3).
    private bool _fastRetransmitOwed;
    private TimeSpan? _srtt;
    private TimeSpan _rttVariance;

    public SctpSender(SctpAssociationOptions options, SctpCounters counters, uint initialTsn, uint peerReceiveWindow)
    {
        _options = options;
        _counters = counters;
        _mtu = options.MaxPacketSize;
        _maxChunkPayload = options.MaxPacketSize - SctpPacketReader.HeaderLength - 4 - DataHeaderLength;
        _nextTsn = initialTsn;
        _cumulativeAck = initialTsn - 1;
        _advancedPeerAckPoint = _cumulativeAck;
        _cwnd = Math.Min(4 * _mtu, Math.Max(2 * _mtu, 4380));
        _ssthresh = (int)Math.Min(int.MaxValue, peerReceiveWindow);
        _peerReceiveWindow = peerReceiveWindow;
        Rto = options.InitialRto;
    }

    /// <summary>Bytes accepted and not yet acknowledged or abandoned: what the send buffer's bound applies to.</summary>
    public long BufferedBytes { get; private set; }

    public TimeSpan Rto { get; private set; }

    /// <summary>When T3-rtx expires; null while nothing is outstanding.</summary>
    public DateTimeOffset? RetransmitDeadline { get; private set; }

    /// <summary>T3-rtx expiries in a row without the cumulative ack moving.</summary>
    public int ConsecutiveTimeouts { get; private set; }

    public int CongestionWindow => _cwnd;

    public int FlightSize => _flightSize;

    /// <summary>The last TSN given to a chunk: what an outgoing stream reset request names.</summary>
    public uint LastAssignedTsn => _nextTsn - 1;

    /// <summary>Set when a FORWARD-TSN must go out (the advanced peer ack point is ahead of the cumulative ack).</summary>
    public bool ForwardTsnPending { get; private set; }

    public bool HasWork => _pending.Count > 0 || _inFlight.Exists(c => c.RetransmitPending && !c.Abandoned) || ForwardTsnPending;

    public SctpSendStatus Enqueue(ushort stream, uint ppid, ReadOnlyMemory<byte> payload, SctpSendOptions options, DateTimeOffset now)
    {
        if (BufferedBytes + payload.Length > _options.MaxSendBufferBytes)
        {
            _counters.Drop(SctpDropReason.SendBufferFull);
            return SctpSendStatus.BufferFull;
        }

        DateTimeOffset? expiresAt = options.Lifetime is { } lifetime ? now + lifetime : null;
        _pending.Enqueue(new SctpOutboundMessage(stream, ppid, payload, options, expiresAt));
        BufferedBytes += payload.Length;
        _counters.MessagesSent++;
        _counters.BytesSent += payload.Length;
        return SctpSendStatus.Queued;
    }

    public bool HasPendingOn(ReadOnlySpan<ushort> streams)
    {
        foreach (var message in _pending)
        {
            if (!message.Abandoned && streams.Contains(message.Stream))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The peer performed our outgoing stream reset: those streams start again at SSN 0.</summary>
    public void ResetStreams(ReadOnlySpan<ushort> streams)
    {
        foreach (ushort stream in streams)
        {
            _nextSsn.Remove(stream);
        }
    }

    /// <summary>Applies a SACK (RFC 9260 section 6.2.1): cumulative ack, gap blocks, window, RTT and congestion window.</summary>
    public void OnSack(uint cumulativeAck, uint receiveWindow, ReadOnlySpan<byte> gapBlocks, DateTimeOffset now)
    {
        if (SctpSerial.IsAfter(_cumulativeAck, cumulativeAck) || SctpSerial.IsAfter(cumulativeAck, LastAssignedTsn))
        {
            return; // old or acknowledging what was never sent
        }

        int bytesAcked = 0;
        bool cumulativeMoved = cumulativeAck != _cumulativeAck;
        int removed = 0;
        while (removed < _inFlight.Count && SctpSerial.IsAtOrBefore(_inFlight[removed].Tsn, cumulativeAck))
        {
            SctpInFlightChunk chunk = _inFlight[removed++];
            bytesAcked += Settle(chunk, now);
            BufferedBytes -= chunk.Abandoned ? 0 : chunk.Length;
        }

        _inFlight.RemoveRange(0, removed);
        _cumulativeAck = cumulativeAck;
        if (SctpSerial.IsAfter(_cumulativeAck, _advancedPeerAckPoint))
        {
            _advancedPeerAckPoint = _cumulativeAck;
        }

        uint highestGapAcked = cumulativeAck;
        for (int i = 0; i + 4 <= gapBlocks.Length; i += 4)
        {
            uint start = cumulativeAck + BinaryPrimitives.ReadUInt16BigEndian(gapBlocks[i..]);
            uint end = cumulativeAck + BinaryPrimitives.ReadUInt16BigEndian(gapBlocks[(i + 2)..]);
            foreach (SctpInFlightChunk chunk in _inFlight)
            {
                if (!SctpSerial.IsAfter(start, chunk.Tsn) && !SctpSerial.IsAfter(chunk.Tsn, end) && !chunk.GapAcked)
                {
                    bytesAcked += Settle(chunk, now);
                    chunk.GapAcked = true;

                    // The original arrived after all: it must not be sent again.
                    chunk.RetransmitPending = false;
                }
            }

            if (SctpSerial.IsAfter(end, highestGapAcked))
            {
                highestGapAcked = end;
            }
        }

        CountMissIndications(highestGapAcked);
        if (_fastRecoveryExit is { } exit && !SctpSerial.IsAfter(exit, cumulativeAck))
        {
            _fastRecoveryExit = null;
        }

        GrowWindow(bytesAcked, cumulativeMoved);
        _peerReceiveWindow = Math.Max(0, receiveWindow - (long)_flightSize);
        if (cumulativeMoved)
        {
            ConsecutiveTimeouts = 0;
        }

        AdvancePeerAckPoint();
        RetransmitDeadline = _inFlight.Exists(c => !c.GapAcked) ? (cumulativeMoved || RetransmitDeadline is null ? now + Rto : RetransmitDeadline) : null;
    }

    /// <summary>T3-rtx expired (RFC 9260 section 6.3.3): back off, collapse the window, mark everything outstanding for resending.</summary>
    public void OnRetransmitTimeout(DateTimeOffset now)
    {
        ConsecutiveTimeouts++;
        Rto = Min(Rto * 2, _options.MaxRto);
        _ssthresh = Math.Max(_cwnd / 2, 4 * _mtu);
        _cwnd = _mtu;
        _partialBytesAcked = 0;
        _fastRecoveryExit = null;
        _fastRetransmitOwed = false;
        foreach (SctpInFlightChunk chunk in _inFlight)
        {
            if (chunk.InFlight)
            {
                MarkForRetransmit(chunk);
            }
        }

        AbandonExpired(now);
        AdvancePeerAckPoint();
        RetransmitDeadline = _inFlight.Exists(c => !c.GapAcked) ? now + Rto : null;
        if (SctpSerial.IsAfter(_advancedPeerAckPoint, _cumulativeAck))
        {
            ForwardTsnPending = true;
        }
    }

    /// <summary>Fills a packet with retransmissions first, then new data, as far as the windows allow. False if nothing was added.</summary>
    public bool WriteData(SctpPacketBuilder packet, DateTimeOffset now)
    {
        bool wrote = false;
        foreach (SctpInFlightChunk chunk in _inFlight)
        {
            if (!chunk.RetransmitPending || chunk.Abandoned)
            {
                continue;
            }

            if (ShouldAbandon(chunk.Message, chunk.Transmissions, now))
            {
                Abandon(chunk.Message);
                continue;
            }

            if (!(_fastRetransmitOwed || CanSend(chunk.Length)) || !TryWriteChunk(packet, chunk, now))
            {
                return FinishWrite(wrote, now);
            }

            _fastRetransmitOwed = false;
            chunk.RetransmitPending = false;
            chunk.MissIndications = 0;
            _counters.Retransmissions++;
            wrote = true;
        }

        AdvancePeerAckPoint();
        while (_pending.TryPeek(out SctpOutboundMessage? message))
        {
            if (message.Abandoned)
            {
                _pending.Dequeue();
                continue;
            }

            if (message.SentBytes == 0 && message.ExpiresAt is { } expiry && expiry <= now)
            {
                Abandon(message);
                continue;
            }

            int length = Math.Min(_maxChunkPayload, message.Payload.Length - message.SentBytes);
            if (!CanSend(length))
            {
                break;
            }

            var chunk = new SctpInFlightChunk(_nextTsn, message, message.SentBytes, length);
            if (message.SentBytes == 0 && !message.Options.Unordered)
            {
                _nextSsn.TryGetValue(message.Stream, out ushort ssn);
                message.Ssn = ssn;
            }

            if (!TryWriteChunk(packet, chunk, now))
            {
                break;
            }

            if (message.SentBytes == 0 && !message.Options.Unordered)
            {
                _nextSsn[message.Stream] = (ushort)(message.Ssn + 1);
            }

            _nextTsn++;
            _inFlight.Add(chunk);
            message.SentBytes += length;
            if (message.SentBytes == message.Payload.Length)
            {
                _pending.Dequeue();
            }

            wrote = true;
        }

        return FinishWrite(wrote, now);
    }

    /// <summary>Writes the FORWARD-TSN (RFC 3758 section 3.2): the new cumulative TSN and, per ordered stream, the last SSN skipped.</summary>
    public bool TryWriteForwardTsn(SctpPacketBuilder packet)
    {
        if (!ForwardTsnPending)
        {
            return true;
        }

        Span<(ushort Stream, ushort Ssn)> skipped = stackalloc (ushort, ushort)[32];
        int count = 0;
        foreach (SctpInFlightChunk chunk in _inFlight)
        {
            if (SctpSerial.IsAfter(chunk.Tsn, _advancedPeerAckPoint))
            {
                break;
            }

            if (chunk.Message.Options.Unordered)
            {
                continue;
            }

            int index = IndexOf(skipped[..count], chunk.Message.Stream);
            if (index >= 0)
            {
                skipped[index].Ssn = chunk.Message.Ssn;
            }
            else if (count < skipped.Length)
            {
                skipped[count++] = (chunk.Message.Stream, chunk.Message.Ssn);
            }
        }

        if (!packet.TryAddChunk(SctpChunkType.ForwardTsn, 0, 4 + (4 * count), out Span<byte> value))
        {
            return false;
        }

        BinaryPrimitives.WriteUInt32BigEndian(value, _advancedPeerAckPoint);
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(value[(4 + (4 * i))..], skipped[i].Stream);
            BinaryPrimitives.WriteUInt16BigEndian(value[(6 + (4 * i))..], skipped[i].Ssn);
        }

        ForwardTsnPending = false;
        return true;
    }

    private static int IndexOf(ReadOnlySpan<(ushort Stream, ushort Ssn)> skipped, ushort stream)
    {
        for (int i = 0; i < skipped.Length; i++)
        {
            if (skipped[i].Stream == stream)
            {
                return i;
            }
        }

        return -1;
    }

    private bool FinishWrite(bool wrote, DateTimeOffset now)
    {
        if (wrote && RetransmitDeadline is null)
        {
            RetransmitDeadline = now + Rto;
        }

        return wrote;
    }

    private bool CanSend(int length) =>
        _flightSize == 0 || (_flightSize + length <= _cwnd && length <= _peerReceiveWindow);

    private bool TryWriteChunk(SctpPacketBuilder packet, SctpInFlightChunk chunk, DateTimeOffset now)
    {
        SctpOutboundMessage message = chunk.Message;
        if (!packet.TryAddChunk(SctpChunkType.Data, DataFlags(chunk), DataHeaderLength + chunk.Length, out Span<byte> value))
        {
            return false;
        }

        BinaryPrimitives.WriteUInt32BigEndian(value, chunk.Tsn);
        BinaryPrimitives.WriteUInt16BigEndian(value[4..], message.Stream);
        BinaryPrimitives.WriteUInt16BigEndian(value[6..], message.Options.Unordered ? (ushort)0 : message.Ssn);
        BinaryPrimitives.WriteUInt32BigEndian(value[8..], message.Ppid);
        message.Payload.Span.Slice(chunk.Offset, chunk.Length).CopyTo(value[DataHeaderLength..]);
        chunk.Transmissions++;
        chunk.SentAt = now;
        _flightSize += chunk.Length;
        _peerReceiveWindow = Math.Max(0, _peerReceiveWindow - chunk.Length);
        return true;
    }

    private static byte DataFlags(SctpInFlightChunk chunk)
    {
        int flags = chunk.Message.Options.Unordered ? 0x04 : 0;
        if (chunk.Offset == 0)
        {
            flags |= 0x02;
        }

        if (chunk.Offset + chunk.Length == chunk.Message.Payload.Length)
        {
            flags |= 0x01;
        }

        return (byte)flags;
    }

    /// <summary>Takes a newly acknowledged chunk out of the flight, measuring the RTT on a chunk sent once (Karn's rule).</summary>
    private int Settle(SctpInFlightChunk chunk, DateTimeOffset now)
    {
        if (chunk.GapAcked)
        {
            return 0;
        }

        if (chunk.InFlight)
        {
            _flightSize -= chunk.Length;
        }

        if (chunk.Transmissions == 1 && !chunk.RetransmitPending && !chunk.Abandoned)
        {
            MeasureRtt(now - chunk.SentAt);
        }

        return chunk.Abandoned ? 0 : chunk.Length;
    }

    private void MeasureRtt(TimeSpan rtt)
    {
        if (_srtt is not { } srtt)
        {
            _srtt = rtt;
            _rttVariance = rtt / 2;
        }
        else
        {
            _rttVariance = (_rttVariance * 3 / 4) + ((srtt - rtt).Duration() / 4);
            _srtt = (srtt * 7 / 8) + (rtt / 8);
        }

        Rto = Max(Min(_srtt.Value + (4 * _rttVariance), _options.MaxRto), _options.MinRto);
    }

    private void GrowWindow(int bytesAcked, bool cumulativeMoved)
    {
        if (bytesAcked == 0 || _fastRecoveryExit is not null)
        {
            return;
        }

        if (_cwnd <= _ssthresh)
        {
            _cwnd += Math.Min(bytesAcked, _mtu);
            return;
        }

        _partialBytesAcked += bytesAcked;
        if (cumulativeMoved && _partialBytesAcked >= _cwnd)
        {
            _partialBytesAcked -= _cwnd;
            _cwnd += _mtu;
        }
    }

    /// <summary>Fast retransmit (RFC 9260 section 7.2.4): a chunk reported missing by three SACKs is re-sent once.</summary>
    private void CountMissIndications(uint highestGapAcked)
    {
        bool entered = false;
        foreach (SctpInFlightChunk chunk in _inFlight)
        {
            if (!SctpSerial.IsAfter(highestGapAcked, chunk.Tsn))
            {
                break;
            }

            if (!chunk.InFlight || ++chunk.MissIndications < 3)
            {
                continue;
            }

            MarkForRetransmit(chunk);
            _fastRetransmitOwed = true;
            if (_fastRecoveryExit is null && !entered)
            {
                entered = true;
                _ssthresh = Math.Max(_cwnd / 2, 4 * _mtu);
                _cwnd = _ssthresh;
                _partialBytesAcked = 0;
                _fastRecoveryExit = LastAssignedTsn;
            }
        }
    }

    private void MarkForRetransmit(SctpInFlightChunk chunk)
    {
        _flightSize -= chunk.Length;
        chunk.RetransmitPending = true;
    }

    private static bool ShouldAbandon(SctpOutboundMessage message, int transmissions, DateTimeOffset now) =>
        (message.Options.MaxRetransmits is { } limit && transmissions > limit) ||
        (message.ExpiresAt is { } expiry && expiry <= now);

    private void AbandonExpired(DateTimeOffset now)
    {
        foreach (SctpInFlightChunk chunk in _inFlight)
        {
            if (chunk.RetransmitPending && !chunk.Abandoned && ShouldAbandon(chunk.Message, chunk.Transmissions, now))
            {
                Abandon(chunk.Message);
            }
        }
    }

    /// <summary>Gives a whole message up: its chunks in flight and its unsent rest (RFC 3758 section 3.5).</summary>
    private void Abandon(SctpOutboundMessage message)
    {
        message.Abandoned = true;
        _counters.Drop(SctpDropReason.Abandoned);
        foreach (SctpInFlightChunk chunk in _inFlight)
        {
            if (chunk.Message != message || chunk.Abandoned)
            {
                continue;
            }

            if (chunk.InFlight)
            {
                _flightSize -= chunk.Length;
            }

            BufferedBytes -= chunk.Length;
            chunk.Abandoned = true;
        }

        BufferedBytes -= message.Payload.Length - message.SentBytes;
        message.SentBytes = message.Payload.Length;
    }

    private void AdvancePeerAckPoint()
    {
        foreach (SctpInFlightChunk chunk in _inFlight)
        {
            if (!SctpSerial.IsAfter(chunk.Tsn, _advancedPeerAckPoint))
            {
                continue;
            }

            if (!chunk.Abandoned || chunk.Tsn != _advancedPeerAckPoint + 1)
            {
                break;
            }

            _advancedPeerAckPoint = chunk.Tsn;
        }

        if (SctpSerial.IsAfter(_advancedPeerAckPoint, _cumulativeAck))
        {
            ForwardTsnPending = true;
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
