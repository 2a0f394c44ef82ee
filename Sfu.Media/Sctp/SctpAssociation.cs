using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Sfu.Media.Sctp;

/// <summary>
/// One SCTP association as WebRTC uses it over DTLS (RFC 8261): a single path, no multi-homing, written for this
/// server instead of binding libusrsctp, whose own timer thread would call back outside the media worker that owns
/// every transport (docs/ARCHITECTURE.md, data channels).
/// </summary>
/// <remarks>
/// <para>Driving it: pass every received packet to <see cref="HandlePacket"/>, call <see cref="HandleTimeout"/>
/// once <see cref="NextTimeout"/> has passed, on one thread. Time comes from the given <see cref="TimeProvider"/>,
/// so tests move it by hand. Outgoing packets and events go to the <see cref="ISctpAssociationListener"/>.</para>
/// <para>The handshake (RFC 9260 section 5) is INIT, INIT-ACK with an HMAC'd cookie, COOKIE-ECHO, COOKIE-ACK; the
/// server normally listens, <see cref="Connect"/> opens actively, and INITs that cross are handled as the RFC says.
/// Bad input never throws: it is a counted drop (<see cref="Counters"/>) or, for a broken handshake, an abort.</para>
/// </remarks>
public sealed class SctpAssociation
{
    private const ushort StateCookieParameter = 7;
    private const ushort ForwardTsnSupportedParameter = 0xC000;
    private const ushort SupportedExtensionsParameter = 0x8008;
    private const ushort MaxStreams = ushort.MaxValue;

    private readonly SctpAssociationOptions _options;
    private readonly ISctpAssociationListener _listener;
    private readonly TimeProvider _clock;
    private readonly SctpPacketBuilder _packet;
    private readonly byte[] _cookieKey = RandomNumberGenerator.GetBytes(32);
    private readonly Func<uint> _tagsAndTsns;
    private uint _localTag;
    private uint _peerTag;
    private uint _localInitialTsn;
    private SctpSender? _sender;
    private SctpReceiver? _receiver;
    private SctpStreamReset? _resets;
    private ushort _outboundStreams;
    private byte[]? _cookieToEcho;
    private DateTimeOffset? _handshakeDeadline;
    private int _handshakeAttempts;
    private TimeSpan _handshakeRto;
    private DateTimeOffset? _sackDeadline;
    private int _dataPacketsUnacked;
    private uint _receivedTag;

    public SctpAssociation(SctpAssociationOptions options, ISctpAssociationListener listener, TimeProvider? clock = null)
        : this(options, listener, clock, NonZeroRandom)
    {
    }

    /// <param name="tagsAndTsns">Source of verification tags and initial TSNs: the fuzz target fixes them so its seeds can name TSNs.</param>
    internal SctpAssociation(SctpAssociationOptions options, ISctpAssociationListener listener, TimeProvider? clock, Func<uint> tagsAndTsns)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(listener);
        if (options.MaxReceiveBufferBytes < options.MaxMessageSize)
        {
            throw new ArgumentException("the receive buffer must hold at least one message of the maximum size", nameof(options));
        }

        _options = options;
        _listener = listener;
        _clock = clock ?? TimeProvider.System;
        _packet = new SctpPacketBuilder(options.MaxPacketSize);
        _handshakeRto = options.InitialRto;
        _tagsAndTsns = tagsAndTsns;
    }

    public SctpAssociationState State { get; private set; }

    public SctpCounters Counters { get; } = new();

    /// <summary>Why the association closed; null while it has not.</summary>
    public string? CloseReason { get; private set; }

    /// <summary>Bytes accepted by <see cref="Send"/> and not yet acknowledged or abandoned.</summary>
    public long BufferedAmount => _sender?.BufferedBytes ?? 0;

    /// <summary>When <see cref="HandleTimeout"/> is next due, or null when no timer runs.</summary>
    public DateTimeOffset? NextTimeout => Earliest(Earliest(_handshakeDeadline, _sackDeadline), Earliest(_sender?.RetransmitDeadline, _resets?.RetransmitDeadline));

    /// <summary>Opens actively: sends INIT and retransmits it until answered.</summary>
    public void Connect()
    {
        if (State != SctpAssociationState.Listening)
        {
            return;
        }

        _localTag = _tagsAndTsns();
        _localInitialTsn = _tagsAndTsns();
        State = SctpAssociationState.CookieWait;
        SendInit();
        _handshakeDeadline = Now + _handshakeRto;
    }

    /// <summary>
    /// Queues one message. The bytes are referenced, not copied, until acknowledged: the caller must not change them
    /// (the data channel relay hands one buffer to every subscriber).
    /// </summary>
    public SctpSendStatus Send(ushort stream, uint ppid, ReadOnlyMemory<byte> payload, SctpSendOptions options = default)
    {
        if (State != SctpAssociationState.Established || _sender is null)
        {
            return SctpSendStatus.NotEstablished;
        }

        if (payload.IsEmpty || payload.Length > _options.MaxMessageSize || stream >= _outboundStreams)
        {
            return SctpSendStatus.Invalid;
        }

        SctpSendStatus status = _sender.Enqueue(stream, ppid, payload, options, Now);
        if (status == SctpSendStatus.Queued)
        {
            Flush();
        }

        return status;
    }

    /// <summary>Resets outgoing streams (RFC 6525), once what was queued on them has been sent.</summary>
    public void ResetOutgoingStreams(ReadOnlySpan<ushort> streams)
    {
        if (State != SctpAssociationState.Established || _resets is null)
        {
            return;
        }

        _resets.Queue(streams);
        Flush();
    }

    /// <summary>Sends ABORT and closes.</summary>
    public void Abort(string reason)
    {
        if (State is SctpAssociationState.Closed or SctpAssociationState.Listening)
        {
            Close(reason);
            return;
        }

        _packet.Begin(_options.Port, _options.Port, _peerTag);
        _packet.TryAddChunk(SctpChunkType.Abort, 0, 0, out _);
        _listener.SendSctpPacket(_packet.Finish());
        Close(reason);
    }

    public void HandleTimeout()
    {
        DateTimeOffset now = Now;
        if (_handshakeDeadline is { } handshake && handshake <= now)
        {
            RetransmitHandshake();
        }

        if (_sender?.RetransmitDeadline is { } t3 && t3 <= now)
        {
            _sender.OnRetransmitTimeout(now);
            if (_sender.ConsecutiveTimeouts > _options.MaxRetransmissions)
            {
                Abort("retransmission limit reached");
                return;
            }
        }

        Flush();
    }

    public void HandlePacket(ReadOnlySpan<byte> packet)
    {
        if (State == SctpAssociationState.Closed)
        {
            return;
        }

        if (!SctpPacketReader.TryOpen(packet, out SctpPacketReader reader))
        {
            Counters.Drop(SctpDropReason.Checksum);
            return;
        }

        if (reader.DestinationPort != _options.Port || reader.SourcePort != _options.Port || !IsForUs(reader, packet))
        {
            Counters.Drop(SctpDropReason.VerificationTag);
            return;
        }

        _receivedTag = reader.VerificationTag;
        bool hadData = false;
        while (State != SctpAssociationState.Closed && reader.TryReadChunk(out SctpChunk chunk))
        {
            if (!HandleChunk(chunk, ref hadData))
            {
                break;
            }
        }

        if (reader.Malformed)
        {
            Counters.Drop(SctpDropReason.Malformed);
        }

        if (hadData && _receiver is not null)
        {
            _dataPacketsUnacked++;
            if (_receiver.ImmediateSackWanted || _dataPacketsUnacked >= 2)
            {
                _sackDeadline = Now;
            }
            else
            {
                _sackDeadline ??= Now + _options.DelayedAck;
            }
        }

        Flush();
    }

    /// <summary>
    /// The verification tag rule (RFC 9260 section 8.5): INIT carries 0; a COOKIE-ECHO before we have a tag carries
    /// the one in its cookie (checked with it); everything else ours.
    /// </summary>
    private bool IsForUs(SctpPacketReader reader, ReadOnlySpan<byte> packet)
    {
        byte firstType = packet[SctpPacketReader.HeaderLength];
        return firstType switch
        {
            (byte)SctpChunkType.Init => reader.VerificationTag == 0,
            (byte)SctpChunkType.CookieEcho when State is SctpAssociationState.Listening => true,
            (byte)SctpChunkType.Abort or (byte)SctpChunkType.ShutdownComplete =>
                reader.VerificationTag == _localTag || ((packet[SctpPacketReader.HeaderLength + 1] & 1) != 0 && reader.VerificationTag == _peerTag),
            _ => reader.VerificationTag == _localTag && State != SctpAssociationState.Listening,
        };
    }

    /// <summary>Handles one chunk; false stops the packet's processing (an unknown chunk whose type says so, or a bad one).</summary>
    private bool HandleChunk(SctpChunk chunk, ref bool hadData)
    {
        switch ((SctpChunkType)chunk.Type)
        {
            case SctpChunkType.Data:
                if (_receiver is null || State is not (SctpAssociationState.Established or SctpAssociationState.CookieEchoed))
                {
                    return false;
                }

                hadData = true;
                return Malformed(_receiver.OnData(chunk.Flags, chunk.Value));
            case SctpChunkType.Init:
                return Malformed(OnInit(chunk.Value));
            case SctpChunkType.InitAck:
                return Malformed(OnInitAck(chunk.Value));
            case SctpChunkType.CookieEcho:
                OnCookieEcho(chunk.Value);
                return true;
            case SctpChunkType.CookieAck:
                if (State == SctpAssociationState.CookieEchoed)
                {
                    Establish();
                }

                return true;
            case SctpChunkType.Sack:
                return Malformed(OnSack(chunk.Value));
            case SctpChunkType.Heartbeat:
                Reply(SctpChunkType.HeartbeatAck, chunk.Value);
                return true;
            case SctpChunkType.HeartbeatAck or SctpChunkType.Error:
                return true;
            case SctpChunkType.Abort:
                Close("peer aborted");
                return false;
            case SctpChunkType.Shutdown:
                State = SctpAssociationState.ShutdownAckSent;
                Reply(SctpChunkType.ShutdownAck, []);
                return true;
            case SctpChunkType.ShutdownAck:
                Reply(SctpChunkType.ShutdownComplete, []);
                Close("shut down");
                return false;
            case SctpChunkType.ShutdownComplete:
                Close("shut down by peer");
                return false;
            case SctpChunkType.ForwardTsn:
                if (_receiver is null)
                {
                    return true;
                }

                hadData = true;
                return Malformed(_receiver.OnForwardTsn(chunk.Value));
            case SctpChunkType.ReConfig:
                return Malformed(OnReConfig(chunk.Value));
            default:
                Counters.Drop(SctpDropReason.UnknownChunk);

                // The type's top bit says whether the rest of the packet may still be read (RFC 9260 section 3.2).
                return (chunk.Type & 0x80) != 0;
        }
    }

    private bool Malformed(bool valid)
    {
        if (!valid)
        {
            Counters.Drop(SctpDropReason.Malformed);
        }

        return valid;
    }

    private bool OnInit(ReadOnlySpan<byte> value)
    {
        if (!TryReadInit(value, out InitParameters init))
        {
            return false;
        }

        if (State is not (SctpAssociationState.Listening or SctpAssociationState.CookieWait or SctpAssociationState.CookieEchoed))
        {
            return true; // a peer restart is not supported: the DTLS transport restarts instead
        }

        // INITs that crossed reuse our tag and TSN (RFC 9260 section 5.2.1); a listener picks fresh ones per INIT.
        bool crossed = State != SctpAssociationState.Listening;
        uint localTag = crossed ? _localTag : _tagsAndTsns();
        uint localTsn = crossed ? _localInitialTsn : _tagsAndTsns();
        var cookie = new SctpCookie(localTag, init.Tag, localTsn, init.InitialTsn, init.ReceiveWindow, init.InboundStreams, init.OutboundStreams, Now);

        _packet.Begin(_options.Port, _options.Port, init.Tag);
        int length = 16 + 4 + SctpCookie.Length + 4 + 8;
        if (_packet.TryAddChunk(SctpChunkType.InitAck, 0, length, out Span<byte> ack))
        {
            WriteInitFixed(ack, localTag, localTsn);
            Span<byte> parameters = ack[16..];
            WriteParameterHeader(parameters, StateCookieParameter, 4 + SctpCookie.Length);
            cookie.Write(parameters[4..], _cookieKey);
            WriteExtensions(parameters[(4 + SctpCookie.Length)..]);
            _listener.SendSctpPacket(_packet.Finish());
        }

        return true;
    }

    private bool OnInitAck(ReadOnlySpan<byte> value)
    {
        if (!TryReadInit(value, out InitParameters init))
        {
            return false;
        }

        if (State != SctpAssociationState.CookieWait || init.Cookie.IsEmpty)
        {
            return !init.Cookie.IsEmpty || State != SctpAssociationState.CookieWait;
        }

        _peerTag = init.Tag;
        Prepare(init.InitialTsn, init.ReceiveWindow, Math.Min(MaxStreams, init.InboundStreams));
        _cookieToEcho = init.Cookie.ToArray();
        State = SctpAssociationState.CookieEchoed;
        _handshakeAttempts = 0;
        SendCookieEcho();
        _handshakeDeadline = Now + _handshakeRto;
        return true;
    }

    private void OnCookieEcho(ReadOnlySpan<byte> value)
    {
        if (!SctpCookie.TryRead(value, _cookieKey, Now, _options.CookieLifetime, out SctpCookie cookie) || cookie.LocalTag != _receivedTag)
        {
            Counters.Drop(SctpDropReason.BadCookie);
            return;
        }

        if (State is SctpAssociationState.Listening or SctpAssociationState.CookieWait or SctpAssociationState.CookieEchoed)
        {
            _localTag = cookie.LocalTag;
            _peerTag = cookie.PeerTag;
            _localInitialTsn = cookie.LocalInitialTsn;
            Prepare(cookie.PeerInitialTsn, cookie.PeerReceiveWindow, cookie.OutboundStreams);
            Establish();
        }
        else if (cookie.PeerTag != _peerTag)
        {
            Counters.Drop(SctpDropReason.BadCookie);
            return;
        }

        // Also answers a COOKIE-ECHO repeated because our COOKIE-ACK was lost.
        Reply(SctpChunkType.CookieAck, []);
    }

    private bool OnSack(ReadOnlySpan<byte> value)
    {
        if (value.Length < 12)
        {
            return false;
        }

        int gaps = BinaryPrimitives.ReadUInt16BigEndian(value[8..]);
        if (value.Length < 12 + (4 * gaps))
        {
            return false;
        }

        _sender?.OnSack(
            BinaryPrimitives.ReadUInt32BigEndian(value),
            BinaryPrimitives.ReadUInt32BigEndian(value[4..]),
            value.Slice(12, 4 * gaps),
            Now);
        return true;
    }

    private bool OnReConfig(ReadOnlySpan<byte> value)
    {
        if (_resets is null || _receiver is null || _sender is null)
        {
            return true;
        }

        while (value.Length >= 4)
        {
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(value);
            int length = BinaryPrimitives.ReadUInt16BigEndian(value[2..]);
            if (length < 8 || length > value.Length)
            {
                return false;
            }

            ReadOnlySpan<byte> parameter = value[..length];
            switch (type)
            {
                case SctpStreamReset.OutgoingRequest when length >= 16:
                    if (_resets.OnPeerRequest(parameter, _receiver.CumulativeTsn) is { } reset)
                    {
                        _receiver.ResetStreams(reset);
                        _listener.OnSctpIncomingStreamsReset(reset);
                    }

                    break;
                case SctpStreamReset.Response when length >= 12:
                    if (_resets.OnResponse(parameter) is { } done)
                    {
                        _sender.ResetStreams(done);
                    }

                    break;
                case SctpStreamReset.OutgoingRequest or SctpStreamReset.Response:
                    return false;
                default:
                    _resets.Deny(parameter);
                    break;
            }

            value = value[Math.Min(value.Length, (length + 3) & ~3)..];
        }

        return true;
    }

    private void Prepare(uint peerInitialTsn, uint peerReceiveWindow, ushort outboundStreams)
    {
        _outboundStreams = outboundStreams;
        _sender = new SctpSender(_options, Counters, _localInitialTsn, peerReceiveWindow);
        _receiver = new SctpReceiver(_options, Counters, _listener, peerInitialTsn);
        _resets = new SctpStreamReset(_localInitialTsn, peerInitialTsn);
    }

    private void Establish()
    {
        State = SctpAssociationState.Established;
        _handshakeDeadline = null;
        _cookieToEcho = null;
        _listener.OnSctpEstablished();
    }

    private void RetransmitHandshake()
    {
        if (State is not (SctpAssociationState.CookieWait or SctpAssociationState.CookieEchoed))
        {
            _handshakeDeadline = null;
            return;
        }

        if (++_handshakeAttempts > _options.MaxRetransmissions)
        {
            Abort("handshake timed out");
            return;
        }

        _handshakeRto = _handshakeRto * 2 < _options.MaxRto ? _handshakeRto * 2 : _options.MaxRto;
        if (State == SctpAssociationState.CookieWait)
        {
            SendInit();
        }
        else
        {
            SendCookieEcho();
        }

        _handshakeDeadline = Now + _handshakeRto;
    }

    private void SendInit()
    {
        _packet.Begin(_options.Port, _options.Port, 0);
        if (_packet.TryAddChunk(SctpChunkType.Init, 0, 16 + 4 + 8, out Span<byte> init))
        {
            WriteInitFixed(init, _localTag, _localInitialTsn);
            WriteExtensions(init[16..]);
            _listener.SendSctpPacket(_packet.Finish());
        }
    }

    private void SendCookieEcho()
    {
        _packet.Begin(_options.Port, _options.Port, _peerTag);
        if (_packet.TryAddChunk(SctpChunkType.CookieEcho, 0, _cookieToEcho!.Length, out Span<byte> echo))
        {
            _cookieToEcho.CopyTo(echo);
            _listener.SendSctpPacket(_packet.Finish());
        }
    }

    private void WriteInitFixed(Span<byte> value, uint tag, uint initialTsn)
    {
        BinaryPrimitives.WriteUInt32BigEndian(value, tag);
        BinaryPrimitives.WriteUInt32BigEndian(value[4..], (uint)_options.MaxReceiveBufferBytes);
        BinaryPrimitives.WriteUInt16BigEndian(value[8..], MaxStreams);
        BinaryPrimitives.WriteUInt16BigEndian(value[10..], MaxStreams);
        BinaryPrimitives.WriteUInt32BigEndian(value[12..], initialTsn);
    }

    /// <summary>Forward-TSN-Supported (RFC 3758) and Supported Extensions naming RE-CONFIG and FORWARD-TSN (RFC 5061).</summary>
    private static void WriteExtensions(Span<byte> parameters)
    {
        WriteParameterHeader(parameters, ForwardTsnSupportedParameter, 4);
        WriteParameterHeader(parameters[4..], SupportedExtensionsParameter, 6);
        parameters[8] = (byte)SctpChunkType.ReConfig;
        parameters[9] = (byte)SctpChunkType.ForwardTsn;
        parameters[10..12].Clear();
    }

    private static void WriteParameterHeader(Span<byte> destination, ushort type, int length)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, type);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)length);
    }

    private static bool TryReadInit(ReadOnlySpan<byte> value, out InitParameters init)
    {
        init = default;
        if (value.Length < 16)
        {
            return false;
        }

        init = new InitParameters(
            BinaryPrimitives.ReadUInt32BigEndian(value),
            BinaryPrimitives.ReadUInt32BigEndian(value[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(value[8..]),
            BinaryPrimitives.ReadUInt16BigEndian(value[10..]),
            BinaryPrimitives.ReadUInt32BigEndian(value[12..]),
            default);
        ReadOnlySpan<byte> parameters = value[16..];
        while (parameters.Length >= 4)
        {
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(parameters);
            int length = BinaryPrimitives.ReadUInt16BigEndian(parameters[2..]);
            if (length < 4 || length > parameters.Length)
            {
                return false;
            }

            if (type == StateCookieParameter)
            {
                init = init with { Cookie = parameters[4..length] };
            }

            parameters = parameters[Math.Min(parameters.Length, (length + 3) & ~3)..];
        }

        return init.Tag != 0 && init.OutboundStreams != 0 && init.InboundStreams != 0;
    }

    /// <summary>Packs SACK, stream resets, FORWARD-TSN and data into as few packets as the windows allow.</summary>
    private void Flush()
    {
        if (State is not (SctpAssociationState.Established or SctpAssociationState.ShutdownAckSent) || _sender is null || _receiver is null || _resets is null)
        {
            return;
        }

        DateTimeOffset now = Now;
        _packet.Begin(_options.Port, _options.Port, _peerTag);
        if (_sackDeadline is { } due && due <= now)
        {
            WriteOrSend(ControlChunk.Sack, now);
            _sackDeadline = null;
            _dataPacketsUnacked = 0;
        }

        if (_resets.HasOutput(_sender, now))
        {
            WriteOrSend(ControlChunk.StreamReset, now);
        }

        if (_sender.ForwardTsnPending)
        {
            WriteOrSend(ControlChunk.ForwardTsn, now);
        }

        while (_sender.WriteData(_packet, now))
        {
            SendPacket();
        }

        SendPacket();
    }

    /// <summary>Adds a control chunk to the packet being filled, or to a fresh one if it does not fit.</summary>
    private void WriteOrSend(ControlChunk kind, DateTimeOffset now)
    {
        if (TryWrite(kind, now))
        {
            return;
        }

        SendPacket();
        TryWrite(kind, now);
    }

    private bool TryWrite(ControlChunk kind, DateTimeOffset now) => kind switch
    {
        ControlChunk.Sack => _receiver!.TryWriteSack(_packet),
        ControlChunk.StreamReset => _resets!.TryWrite(_packet, _sender!, now, _sender!.Rto),
        _ => _sender!.TryWriteForwardTsn(_packet),
    };

    private void SendPacket()
    {
        if (_packet.HasChunks)
        {
            _listener.SendSctpPacket(_packet.Finish());
            _packet.Begin(_options.Port, _options.Port, _peerTag);
        }
    }

    private void Reply(SctpChunkType type, ReadOnlySpan<byte> value)
    {
        _packet.Begin(_options.Port, _options.Port, _peerTag);
        if (_packet.TryAddChunk(type, 0, value.Length, out Span<byte> destination))
        {
            value.CopyTo(destination);
            _listener.SendSctpPacket(_packet.Finish());
        }
    }

    private void Close(string reason)
    {
        if (State == SctpAssociationState.Closed)
        {
            return;
        }

        State = SctpAssociationState.Closed;
        CloseReason = reason;
        _handshakeDeadline = null;
        _sackDeadline = null;
        _sender = null;
        _resets = null;
        _listener.OnSctpClosed(reason);
    }

    private DateTimeOffset Now => _clock.GetUtcNow();

    private static uint NonZeroRandom()
    {
        uint value;
        do
        {
            value = (uint)RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue);
        }
        while (value == 0);
        return value;
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a < b ? a : b;

    private enum ControlChunk
    {
        Sack,
        StreamReset,
        ForwardTsn,
    }

    private readonly ref struct InitParameters(uint tag, uint receiveWindow, ushort outboundStreams, ushort inboundStreams, uint initialTsn, ReadOnlySpan<byte> cookie)
    {
        public uint Tag { get; } = tag;

        public uint ReceiveWindow { get; } = receiveWindow;

        public ushort OutboundStreams { get; } = outboundStreams;

        public ushort InboundStreams { get; } = inboundStreams;

        public uint InitialTsn { get; } = initialTsn;

        public ReadOnlySpan<byte> Cookie { get; init; } = cookie;
    }
}
