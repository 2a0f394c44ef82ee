using System.Net;
using System.Security.Cryptography;
using System.Text;
using Sfu.Media.Stun;

namespace Sfu.Client.Transport.Turn;

public enum TurnRelayState
{
    New,

    /// <summary>Allocate sent (first without credentials, then with the realm and nonce of the server's 401).</summary>
    Allocating,

    /// <summary>Allocated; ChannelBind for the peer (the server's candidate) sent.</summary>
    Binding,

    /// <summary>The channel is bound: datagrams flow to and from the peer.</summary>
    Ready,

    Failed,
    Closed,
}

/// <summary>Sends one frame to the TURN server: a datagram over UDP, a framed message on the TCP stream.</summary>
internal delegate bool TurnFrameSender(ReadOnlySpan<byte> frame);

/// <summary>Takes a frame or a datagram in place: the span may be decrypted where it lies, and is valid only during the call.</summary>
internal delegate void TurnFrameHandler(Span<byte> frame);

/// <summary>
/// The client's side of one TURN allocation (RFC 8656) relaying to one peer, the SFU's candidate: Allocate with the
/// long-term credentials of the TURN REST API (the key is MD5 of "username:realm:password", the realm and nonce come
/// from the server's 401 and are renewed on 438), then ChannelBind for the peer (which installs its permission too),
/// then ChannelData both ways. The allocation is refreshed at half its lifetime, the channel (and with it the
/// permission) every four minutes; closing deletes the allocation.
/// </summary>
/// <remarks>
/// <para>One request is outstanding at a time; over UDP it is resent after 500 ms, doubling, seven sends in all
/// (RFC 8489 section 6.2.1), over TCP only timed out after 39.5 s. A success response counts only with a valid
/// MESSAGE-INTEGRITY under the long-term key; anything that is not an answer to the outstanding request is counted
/// and dropped.</para>
/// <para>Threads: responses and peer data arrive on the carrier's receive loop, timers on the transport's heartbeat,
/// sends to the peer from any thread without a lock (the channel number is fixed and the ready flag volatile).</para>
/// </remarks>
public sealed class TurnRelay
{
    /// <summary>The one channel this allocation binds: its one peer is the SFU.</summary>
    public const ushort Channel = TurnFraming.FirstChannel;

    private const int MaxRequestLength = 1400;
    private const int MaxSends = 7;
    private const int MaxAuthenticationAttempts = 3;

    // RFC 8489 sections 14.9 and 14.10: REALM and NONCE are under 128 characters, at most 763 bytes of UTF-8.
    private const int MaxRealmOrNonceLength = 763;

    // RFC 8656 section 18: REQUESTED-TRANSPORT is the protocol number (17, UDP) followed by three reserved bytes.
    private const uint UdpTransport = 17u << 24;

    // ERROR-CODE values that carry a (new) nonce: Unauthenticated, Stale Nonce.
    private const int Unauthenticated = 401;
    private const int StaleNonce = 438;

    private static readonly long Frequency = TimeProvider.System.TimestampFrequency;
    private static readonly long FirstRetransmit = Frequency / 2;
    private static readonly long TransactionTimeout = (long)(39.5 * Frequency);

    // Channel bindings last 10 minutes and the permissions they install 5 (RFC 8656 sections 9 and 12).
    private static readonly long ChannelRefreshInterval = 240 * Frequency;

    [ThreadStatic]
    private static byte[]? t_frame;

    private readonly Lock _gate = new();
    private readonly TurnRelayOptions _options;
    private readonly TurnFrameSender _send;
    private readonly TurnFrameHandler _onPeerData;
    private readonly bool _padFrames;
    private readonly byte[] _username;
    private readonly byte[] _request = new byte[MaxRequestLength];
    private readonly byte[] _transaction = new byte[StunConstants.TransactionIdLength];
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IPEndPoint? _peer;
    private byte[] _realm = [];
    private byte[] _nonce = [];
    private byte[]? _key;
    private StunMethod? _pending;
    private uint? _pendingLifetime;
    private int _requestLength;
    private int _sends;
    private int _authenticationAttempts;
    private long _resendAt;
    private long _retransmitInterval;
    private long _timeoutAt;
    private long _allocationRefreshAt = long.MaxValue;
    private long _channelRefreshAt = long.MaxValue;
    private int _isReady;
    private long _badMessages;
    private long _droppedFrames;
    private long _peerFrames;
    private long _allocationRefreshes;
    private long _channelBindings;

    internal TurnRelay(TurnRelayOptions options, TurnFrameSender send, TurnFrameHandler onPeerData)
    {
        _options = options;
        _send = send;
        _onPeerData = onPeerData;
        _padFrames = options.Transport == TurnTransport.Tcp;
        _username = Encoding.UTF8.GetBytes(options.Username);
    }

    public TurnRelayState State { get; private set; }

    public string? FailureReason { get; private set; }

    /// <summary>The relayed transport address the server allocated: what the peer sees as this client's address.</summary>
    public IPEndPoint? RelayedEndPoint { get; private set; }

    /// <summary>This client's address as the TURN server saw it (its server-reflexive address).</summary>
    public IPEndPoint? MappedEndPoint { get; private set; }

    /// <summary>The allocation's lifetime as last granted, in seconds.</summary>
    public uint LifetimeSeconds { get; private set; }

    public TurnTransport Transport => _options.Transport;

    public bool IsReady => Volatile.Read(ref _isReady) == 1;

    /// <summary>STUN messages from the server that were no valid answer to the outstanding request.</summary>
    public long BadMessages => Interlocked.Read(ref _badMessages);

    /// <summary>Frames that were neither STUN nor ChannelData on our channel (or arrived before it was bound).</summary>
    public long DroppedFrames => Interlocked.Read(ref _droppedFrames);

    /// <summary>Datagrams from the peer delivered (ChannelData and Data indications).</summary>
    public long PeerFrames => Interlocked.Read(ref _peerFrames);

    public long AllocationRefreshes => Interlocked.Read(ref _allocationRefreshes);

    /// <summary>Successful ChannelBinds: the first, then one per refresh.</summary>
    public long ChannelBindings => Interlocked.Read(ref _channelBindings);

    /// <summary>Waits until the channel is bound; throws with the reason if the allocation fails, or on timeout.</summary>
    public Task WaitReadyAsync(TimeSpan timeout) => _ready.Task.WaitAsync(timeout);

    /// <summary>Sends one datagram to the peer as ChannelData; false before the channel is bound or if it does not fit.</summary>
    public bool SendToPeer(ReadOnlySpan<byte> datagram)
    {
        if (Volatile.Read(ref _isReady) == 0)
        {
            return false;
        }

        byte[] frame = t_frame ??= new byte[ClientTransport.MaxDatagramSize + 128];
        int length = TurnFraming.WriteChannelData(frame, Channel, datagram, _padFrames);
        return length > 0 && _send(frame.AsSpan(0, length));
    }

    /// <summary>Refreshes the allocation and the channel now rather than when due (an operator's or a test's choice).</summary>
    public void RefreshNow()
    {
        lock (_gate)
        {
            _allocationRefreshAt = 0;
            _channelRefreshAt = 0;
        }
    }

    /// <summary>Begins the allocation for <paramref name="peer"/> (once the carrier can send).</summary>
    internal void Start(IPEndPoint peer)
    {
        lock (_gate)
        {
            if (State != TurnRelayState.New)
            {
                return;
            }

            _peer = peer;
            State = TurnRelayState.Allocating;
            Begin(StunMethod.Allocate, TimeProvider.System.GetTimestamp());
        }
    }

    /// <summary>One frame from the server: a STUN response or indication, or ChannelData.</summary>
    internal void OnFrame(Span<byte> frame)
    {
        if (TurnFraming.TryReadChannelData(frame, out ushort channel, out int dataLength))
        {
            if (channel != Channel || !IsReady)
            {
                Interlocked.Increment(ref _droppedFrames);
                return;
            }

            Interlocked.Increment(ref _peerFrames);
            _onPeerData(frame.Slice(TurnFraming.ChannelDataHeaderLength, dataLength));
            return;
        }

        if (!StunMessageReader.TryParse(frame, out StunMessageReader message))
        {
            Interlocked.Increment(ref _droppedFrames);
            return;
        }

        if (message.Class == StunClass.Indication && message.Method == StunMethod.Data)
        {
            OnDataIndication(frame, message);
            return;
        }

        lock (_gate)
        {
            OnResponse(message);
        }
    }

    internal void OnHeartbeat(long now)
    {
        lock (_gate)
        {
            if (_pending is { } method)
            {
                if (now >= _timeoutAt)
                {
                    Fail($"TURN {method} got no answer");
                }
                else if (!_padFrames && now >= _resendAt && _sends < MaxSends)
                {
                    _sends++;
                    _retransmitInterval *= 2;
                    _resendAt = now + _retransmitInterval;
                    _send(_request.AsSpan(0, _requestLength));
                }

                return;
            }

            if (State != TurnRelayState.Ready)
            {
                return;
            }

            if (now >= _allocationRefreshAt)
            {
                _allocationRefreshAt = long.MaxValue;
                Begin(StunMethod.Refresh, now);
            }
            else if (now >= _channelRefreshAt)
            {
                _channelRefreshAt = long.MaxValue;
                Begin(StunMethod.ChannelBind, now);
            }
        }
    }

    /// <summary>The carrier is gone (the TCP connection closed, or a framing error): the allocation with it.</summary>
    internal void Fail(string reason)
    {
        lock (_gate)
        {
            if (State is TurnRelayState.Failed or TurnRelayState.Closed)
            {
                return;
            }

            State = TurnRelayState.Failed;
            FailureReason = reason;
            _pending = null;
            Volatile.Write(ref _isReady, 0);
        }

        _ready.TrySetException(new InvalidOperationException(reason));
    }

    /// <summary>Deletes the allocation (a Refresh with lifetime 0, not waited for) and stops relaying.</summary>
    internal void Close()
    {
        lock (_gate)
        {
            if (State is TurnRelayState.Failed or TurnRelayState.Closed)
            {
                return;
            }

            if (RelayedEndPoint is not null)
            {
                _pendingLifetime = 0;
                _requestLength = Write(StunMethod.Refresh);
                _send(_request.AsSpan(0, _requestLength));
            }

            State = TurnRelayState.Closed;
            _pending = null;
            Volatile.Write(ref _isReady, 0);
        }

        _ready.TrySetException(new ObjectDisposedException(nameof(TurnRelay)));
    }

    private void OnDataIndication(Span<byte> frame, StunMessageReader message)
    {
        if (!IsReady || !message.TryGetXorAddress(StunAttributeType.XorPeerAddress, out IPEndPoint? from) || !from!.Equals(_peer)
            || !message.TryGetAttribute(StunAttributeType.Data, out ReadOnlySpan<byte> data) || !((ReadOnlySpan<byte>)frame).Overlaps(data, out int offset))
        {
            Interlocked.Increment(ref _droppedFrames);
            return;
        }

        Interlocked.Increment(ref _peerFrames);
        _onPeerData(frame.Slice(offset, data.Length));
    }

    private void OnResponse(StunMessageReader message)
    {
        if (_pending is not { } method || message.Method != method || !message.TransactionId.SequenceEqual(_transaction)
            || message.Class is StunClass.Request or StunClass.Indication)
        {
            Interlocked.Increment(ref _badMessages);
            return;
        }

        long now = TimeProvider.System.GetTimestamp();
        if (message.Class == StunClass.ErrorResponse)
        {
            OnErrorResponse(method, message, now);
            return;
        }

        if (_key is null || !message.VerifyMessageIntegrity(_key))
        {
            Interlocked.Increment(ref _badMessages);
            return;
        }

        _pending = null;
        _authenticationAttempts = 0;
        switch (method)
        {
            case StunMethod.Allocate:
                if (!message.TryGetXorAddress(StunAttributeType.XorRelayedAddress, out IPEndPoint? relayed))
                {
                    Fail("TURN Allocate succeeded without XOR-RELAYED-ADDRESS");
                    return;
                }

                RelayedEndPoint = relayed;
                MappedEndPoint = message.TryGetXorMappedAddress(out IPEndPoint? mapped) ? mapped : null;
                ScheduleAllocationRefresh(message, now);
                State = TurnRelayState.Binding;
                Begin(StunMethod.ChannelBind, now);
                break;
            case StunMethod.ChannelBind:
                Interlocked.Increment(ref _channelBindings);
                _channelRefreshAt = now + ChannelRefreshInterval;
                if (State == TurnRelayState.Binding)
                {
                    State = TurnRelayState.Ready;
                    Volatile.Write(ref _isReady, 1);
                    _ready.TrySetResult();
                }

                break;
            case StunMethod.Refresh:
                Interlocked.Increment(ref _allocationRefreshes);
                ScheduleAllocationRefresh(message, now);
                break;
        }
    }

    private void OnErrorResponse(StunMethod method, StunMessageReader message, long now)
    {
        message.TryGetErrorCode(out int code, out ReadOnlySpan<byte> reason);
        // A 401 to a request that carried credentials means they are wrong (an expired nonce gets 438 instead).
        bool retry = (code == StaleNonce || (code == Unauthenticated && _key is null))
            && message.TryGetAttribute(StunAttributeType.Nonce, out ReadOnlySpan<byte> nonce) && nonce.Length is > 0 and <= MaxRealmOrNonceLength;
        if (retry && _authenticationAttempts < MaxAuthenticationAttempts)
        {
            if (code == Unauthenticated)
            {
                if (!message.TryGetAttribute(StunAttributeType.Realm, out ReadOnlySpan<byte> realm) || realm.Length is 0 or > MaxRealmOrNonceLength)
                {
                    Fail("TURN 401 without a REALM");
                    return;
                }

                _realm = realm.ToArray();
                _key = LongTermKey(_username, _realm, Encoding.UTF8.GetBytes(_options.Password));
            }

            message.TryGetAttribute(StunAttributeType.Nonce, out ReadOnlySpan<byte> fresh);
            _nonce = fresh.ToArray();
            _authenticationAttempts++;
            Begin(method, now);
            return;
        }

        Fail($"TURN {method} refused: {code} {Encoding.UTF8.GetString(reason)}");
    }

    private void ScheduleAllocationRefresh(StunMessageReader message, long now)
    {
        // RFC 8656 section 7.3: without LIFETIME the allocation lasts the default 10 minutes.
        LifetimeSeconds = message.TryGetUInt32(StunAttributeType.Lifetime, out uint lifetime) ? lifetime : 600;
        _allocationRefreshAt = now + (LifetimeSeconds / 2 * Frequency);
    }

    /// <summary>Sends a new request of <paramref name="method"/> (a new transaction: also after a 401 or 438).</summary>
    private void Begin(StunMethod method, long now)
    {
        _pendingLifetime = null;
        _requestLength = Write(method);
        if (_requestLength == 0)
        {
            Fail($"TURN {method} does not fit {MaxRequestLength} bytes");
            return;
        }

        _pending = method;
        _sends = 1;
        _retransmitInterval = FirstRetransmit;
        _resendAt = now + FirstRetransmit;
        _timeoutAt = now + TransactionTimeout;
        _send(_request.AsSpan(0, _requestLength));
    }

    private int Write(StunMethod method)
    {
        StunMessageWriter.NewTransactionId(_transaction);
        var writer = new StunMessageWriter(_request, StunMessageType.Compose(method, StunClass.Request), _transaction);
        bool fits = method switch
        {
            StunMethod.Allocate => writer.AddUInt32(StunAttributeType.RequestedTransport, UdpTransport),
            StunMethod.ChannelBind => writer.AddUInt32(StunAttributeType.ChannelNumber, (uint)Channel << 16)
                && writer.AddXorAddress(StunAttributeType.XorPeerAddress, _peer!),
            _ => _pendingLifetime is not { } lifetime || writer.AddUInt32(StunAttributeType.Lifetime, lifetime),
        };
        if (_key is not null)
        {
            fits = fits && writer.AddUsername(_username) && writer.AddAttribute((ushort)StunAttributeType.Realm, _realm)
                && writer.AddAttribute((ushort)StunAttributeType.Nonce, _nonce) && writer.AddMessageIntegrity(_key);
        }

        return fits && writer.AddFingerprint() ? writer.Length : 0;
    }

    /// <summary>RFC 8489 section 9.2.2: the long-term credential's HMAC key, MD5("username:realm:password").</summary>
    private static byte[] LongTermKey(ReadOnlySpan<byte> username, ReadOnlySpan<byte> realm, ReadOnlySpan<byte> password)
    {
        byte[] joined = [.. username, (byte)':', .. realm, (byte)':', .. password];
#pragma warning disable CA5351 // MD5 is what RFC 8489 prescribes for this key; it is not used for integrity on its own.
        return MD5.HashData(joined);
#pragma warning restore CA5351
    }
}
