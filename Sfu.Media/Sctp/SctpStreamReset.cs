using System.Buffers.Binary;

namespace Sfu.Media.Sctp;

/// <summary>
/// Outgoing stream resets (RFC 6525), the way WebRTC closes a data channel: one request at a time, each naming
/// the last TSN sent on the old stream sequence, retransmitted after an RTO until the peer answers, and the
/// answers to the peer's own requests (remembered, so a retransmitted request gets the same answer).
/// </summary>
internal sealed class SctpStreamReset(uint localInitialTsn, uint peerInitialTsn)
{
    public const ushort OutgoingRequest = 13;
    public const ushort IncomingRequest = 14;
    public const ushort Response = 16;

    public const uint ResultNothingToDo = 0;
    public const uint ResultPerformed = 1;
    public const uint ResultDenied = 2;
    public const uint ResultBadSequence = 5;
    public const uint ResultInProgress = 6;

    private readonly List<ushort> _queued = [];
    private ushort[]? _inFlight;
    private uint _inFlightLastTsn;
    private uint _nextRequestSequence = localInitialTsn;
    private uint _nextPeerSequence = peerInitialTsn;
    private (uint Sequence, uint Result)? _lastAnswer;
    private (uint Sequence, uint Result)? _answerToSend;

    public DateTimeOffset? RetransmitDeadline { get; private set; }

    public void Queue(ReadOnlySpan<ushort> streams)
    {
        foreach (ushort stream in streams)
        {
            if (!_queued.Contains(stream) && (_inFlight is null || !_inFlight.Contains(stream)))
            {
                _queued.Add(stream);
            }
        }
    }

    /// <summary>A request ready to go once the queued streams have no unsent data (RFC 6525 section 5.1.2).</summary>
    public bool HasRequestReady(SctpSender sender) =>
        _inFlight is null && _queued.Count > 0 && !sender.HasPendingOn(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_queued));

    public bool HasOutput(SctpSender sender, DateTimeOffset now) =>
        _answerToSend is not null || HasRequestReady(sender) || (RetransmitDeadline is { } due && due <= now);

    /// <summary>Writes one RE-CONFIG chunk with the pending answer and/or a (new or retransmitted) request.</summary>
    public bool TryWrite(SctpPacketBuilder packet, SctpSender sender, DateTimeOffset now, TimeSpan rto)
    {
        if (HasRequestReady(sender))
        {
            _inFlight = [.. _queued];
            _queued.Clear();
            _inFlightLastTsn = sender.LastAssignedTsn;
            RetransmitDeadline = null;
        }

        bool request = _inFlight is not null && (RetransmitDeadline is null || RetransmitDeadline <= now);
        int requestLength = request ? (16 + (2 * _inFlight!.Length) + 3) & ~3 : 0;
        int answerLength = _answerToSend is null ? 0 : 12;
        if (requestLength + answerLength == 0)
        {
            return true;
        }

        if (!packet.TryAddChunk(SctpChunkType.ReConfig, 0, requestLength + answerLength, out Span<byte> value))
        {
            return false;
        }

        if (request)
        {
            BinaryPrimitives.WriteUInt16BigEndian(value, OutgoingRequest);
            BinaryPrimitives.WriteUInt16BigEndian(value[2..], (ushort)(16 + (2 * _inFlight!.Length)));
            BinaryPrimitives.WriteUInt32BigEndian(value[4..], _nextRequestSequence);
            BinaryPrimitives.WriteUInt32BigEndian(value[8..], _nextPeerSequence - 1);
            BinaryPrimitives.WriteUInt32BigEndian(value[12..], _inFlightLastTsn);
            for (int i = 0; i < _inFlight.Length; i++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(value[(16 + (2 * i))..], _inFlight[i]);
            }

            RetransmitDeadline = now + rto;
        }

        if (_answerToSend is { } answer)
        {
            Span<byte> parameter = value[requestLength..];
            BinaryPrimitives.WriteUInt16BigEndian(parameter, Response);
            BinaryPrimitives.WriteUInt16BigEndian(parameter[2..], 12);
            BinaryPrimitives.WriteUInt32BigEndian(parameter[4..], answer.Sequence);
            BinaryPrimitives.WriteUInt32BigEndian(parameter[8..], answer.Result);
            _answerToSend = null;
        }

        return true;
    }

    /// <summary>
    /// A peer's outgoing reset request: performed once everything it sent before it has arrived, answered
    /// "in progress" until then (the peer asks again). Returns the streams to reset now, or null.
    /// </summary>
    public ushort[]? OnPeerRequest(ReadOnlySpan<byte> parameter, uint cumulativeTsn)
    {
        uint sequence = BinaryPrimitives.ReadUInt32BigEndian(parameter[4..]);
        uint lastTsn = BinaryPrimitives.ReadUInt32BigEndian(parameter[12..]);
        if (sequence == _nextPeerSequence - 1 && _lastAnswer is { } last && last.Sequence == sequence)
        {
            _answerToSend = last;
            return null;
        }

        if (sequence != _nextPeerSequence)
        {
            _answerToSend = (sequence, ResultBadSequence);
            return null;
        }

        if (SctpSerial.IsAfter(lastTsn, cumulativeTsn))
        {
            _answerToSend = (sequence, ResultInProgress);
            return null;
        }

        ushort[] streams = new ushort[(parameter.Length - 16) / 2];
        for (int i = 0; i < streams.Length; i++)
        {
            streams[i] = BinaryPrimitives.ReadUInt16BigEndian(parameter[(16 + (2 * i))..]);
        }

        _nextPeerSequence++;
        _lastAnswer = _answerToSend = (sequence, ResultPerformed);
        return streams;
    }

    /// <summary>A request this end does not make use of (incoming reset, add streams): refused.</summary>
    public void Deny(ReadOnlySpan<byte> parameter)
    {
        uint sequence = BinaryPrimitives.ReadUInt32BigEndian(parameter[4..]);
        _answerToSend = (sequence, sequence == _nextPeerSequence ? ResultDenied : ResultBadSequence);
        if (sequence == _nextPeerSequence)
        {
            _nextPeerSequence++;
            _lastAnswer = _answerToSend;
        }
    }

    /// <summary>The answer to our request: the streams it reset, if performed; "in progress" retries after an RTO.</summary>
    public ushort[]? OnResponse(ReadOnlySpan<byte> parameter)
    {
        uint sequence = BinaryPrimitives.ReadUInt32BigEndian(parameter[4..]);
        uint result = BinaryPrimitives.ReadUInt32BigEndian(parameter[8..]);
        if (_inFlight is null || sequence != _nextRequestSequence || result == ResultInProgress)
        {
            return null;
        }

        ushort[] done = _inFlight;
        _inFlight = null;
        RetransmitDeadline = null;
        _nextRequestSequence++;
        return result is ResultPerformed or ResultNothingToDo ? done : [];
    }
}
