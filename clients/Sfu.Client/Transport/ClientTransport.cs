using System.Net;
using System.Net.Sockets;
using Sfu.Client.DataChannels;
using Sfu.Client.Transport.IceTcp;
using Sfu.Client.Transport.Turn;
using Sfu.Media.Dtls;
using Sfu.Media.Srtp;
using Sfu.Media.Stun;

namespace Sfu.Client.Transport;

/// <summary>
/// One PeerConnection's worth of transport, as a browser runs it against our ICE-lite server: its own UDP
/// socket, ICE checks in the controlling role (nominating), consent checks every few seconds (RFC 7675),
/// DTLS in the client role (<c>a=setup:active</c>), then SRTP both ways. Received media is decrypted in the
/// receive buffer and handed to <see cref="Listener"/>.
/// </summary>
/// <remarks>
/// <para>For tests it can do what a browser does not let you choose: move to a new socket mid-call
/// (<see cref="RebindAsync"/>, a NAT rebinding as the server sees it), leave USE-CANDIDATE out, stop
/// checking, and send arbitrary datagrams from its socket.</para>
/// <para>With <see cref="ClientTransportOptions.Relay"/> everything goes through a TURN allocation instead (relay only, as
/// a browser with <c>iceTransportPolicy: "relay"</c>): over the transport's UDP socket or a TCP connection to the TURN
/// server, and the SFU sees the relayed address as the client's.</para>
/// <para>With <see cref="ClientTransportOptions.IceTcp"/> everything goes over one TCP connection to the server's passive
/// ICE-TCP candidate, in RFC 4571 frames (<see cref="ClientIceTcpConnection"/>). When it closes the path is dead
/// (<see cref="PathDied"/>); <see cref="RebindAsync"/> opens a new connection, which the server takes as a new path of
/// the same transport.</para>
/// <para>Threads: one async receive loop per socket; the shared <see cref="ClientHeartbeat"/> for timers;
/// sends come from any thread and take no lock (per-thread buffers, SRTP contexts lock themselves) but an ICE-TCP
/// connection's, which keeps frames whole on its stream.</para>
/// </remarks>
public sealed class ClientTransport : IDtlsPacketSink, IDisposable
{
    /// <summary>Largest datagram the transport builds; RTP handed to <see cref="SendRtp"/> must leave room for the SRTP tag.</summary>
    public const int MaxDatagramSize = 1500;

    // A browser's first DTLS resend (WebRTC's 50 ms), in timestamp ticks.
    private static readonly long FirstFlightResend = TimeProvider.System.TimestampFrequency / 20;

    [ThreadStatic]
    private static byte[]? t_sendBuffer;

    private readonly ClientTransportOptions _options;
    private readonly Lock _iceGate = new();
    private readonly IceAgent _ice;
    private readonly DtlsTransport _dtls;
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _checkInterval;
    private readonly long _consentInterval;
    private readonly TurnRelay? _relay;
    private readonly TurnTcpConnection? _turnTcp;
    private readonly SocketAddress? _turnServer;
    private ClientIceTcpConnection? _iceTcp;
    private string? _deadPath;
    // The server's UDP candidate: the TURN relay's peer, and where MoveToUdp goes.
    private IPEndPoint? _udpCandidate;
    private long _relayFallbackAt = long.MaxValue;
    private int _relaying;
    private Socket _socket;
    private SocketAddress _remote;
    private CancellationTokenSource _receiving = new();
    private SrtpContext? _outbound;
    private SrtpContext? _inbound;
    private long _nextCheckAt;
    private long _lastResponseAt;

    // The last DTLS datagram sent before the server's first one arrived (the ClientHello), kept to send again when
    // the server shows by its own check that it only now took the pair (see OnStun); null once the server answered.
    private byte[]? _unansweredFlight = new byte[MaxDatagramSize];
    private int _unansweredFlightLength;
    private long _flightResendAt;
    private long _flightResendInterval;
    private bool _started;
    private bool _disposed;

    // Counters are written by the receive loop or senders and read by tests.
    private long _checksSent;
    private long _checkResponses;
    private long _badResponses;
    private long _requestsAnswered;
    private long _rtpSent;
    private long _rtcpSent;
    private long _rtpReceived;
    private long _rtcpReceived;
    private long _srtpFailures;
    private Socket? _deliveringSocket;

    public ClientTransport(ClientTransportOptions? options = null)
    {
        _options = options ?? new ClientTransportOptions();
        if (_options.IceTcp && _options.Relay is not null)
        {
            throw new ArgumentException("ICE-TCP and a TURN relay are two ways round blocked UDP: set one of them", nameof(options));
        }

        _options.IceTcpShaping?.Validate();

        _socket = Bind(_options.LocalEndPoint, _options.CreateSocket);
        _remote = new SocketAddress(_socket.AddressFamily);
        _ice = new IceAgent(IceCredentials.Generate());
        var frequency = TimeProvider.System.TimestampFrequency;
        _checkInterval = (long)(_options.CheckInterval.TotalSeconds * frequency);
        _consentInterval = (long)(_options.ConsentInterval.TotalSeconds * frequency);
        LocalFingerprint = ClientDtls.Context(_options.SrtpProfiles).Certificate.Fingerprint;
        _dtls = new DtlsTransport(ClientDtls.Context(_options.SrtpProfiles), this);
        _dtls.StateChanged += OnDtlsStateChanged;
        DataChannels = new ClientDataChannels(_dtls);
        if (_options.IceTcp)
        {
            _iceTcp = new ClientIceTcpConnection(new IPEndPoint(_options.LocalEndPoint.Address, 0), _options.IceTcpShaping);
        }

        if (_options.Relay is { } relay)
        {
            if (relay.Transport == TurnTransport.Tcp)
            {
                _turnTcp = new TurnTcpConnection(_options.LocalEndPoint.Address);
                _relay = new TurnRelay(relay, _turnTcp.Send, OnRelayedDatagram);
            }
            else
            {
                _turnServer = relay.Server.Serialize();
                _relay = new TurnRelay(relay, frame => SendRawTo(frame, _turnServer), OnRelayedDatagram);
            }
        }
    }

    /// <summary>Raised once SRTP keys exist (DTLS connected and the server's fingerprint matched).</summary>
    public event Action<ClientTransport>? Connected;

    /// <summary>
    /// Raised, with the reason, when the ICE-TCP connection closed or could not be opened: the path is dead, the peer is
    /// still in its room. <see cref="RebindAsync"/> opens a new one, <see cref="MoveToUdp"/> goes to UDP instead. From the
    /// connection's receive loop.
    /// </summary>
    public event Action<ClientTransport, string>? PathDied;

    /// <summary>Gets decrypted RTP and RTCP. Set it before <see cref="Start"/>.</summary>
    public IClientMediaListener? Listener { get; set; }

    /// <summary>This end's ICE ufrag and password, for the local SDP.</summary>
    public IceCredentials LocalIce => _ice.Local;

    /// <summary>This end's DTLS certificate fingerprint, for the local SDP.</summary>
    public DtlsFingerprint LocalFingerprint { get; }

    /// <summary>The local socket's address now, the ICE-TCP connection's in TCP mode (changes with <see cref="RebindAsync"/>).</summary>
    public IPEndPoint LocalEndPoint => Volatile.Read(ref _iceTcp)?.LocalEndPoint ?? (IPEndPoint)Volatile.Read(ref _socket).LocalEndPoint!;

    /// <summary>The TCP connection everything goes over, with <see cref="ClientTransportOptions.IceTcp"/>; the newest one.</summary>
    public ClientIceTcpConnection? IceTcp => Volatile.Read(ref _iceTcp);

    /// <summary>Why the current path died (see <see cref="PathDied"/>); null while it lives.</summary>
    public string? DeadPathReason => Volatile.Read(ref _deadPath);

    /// <summary>The transport's data channels: SCTP over its DTLS, once an SDP negotiated a data section.</summary>
    public ClientDataChannels DataChannels { get; }

    /// <summary>The TURN allocation everything goes through, when <see cref="ClientTransportOptions.Relay"/> is set.</summary>
    public TurnRelay? Relay => _relay;

    /// <summary>Whether everything goes through <see cref="Relay"/>: relay only from the start, or since the fallback.</summary>
    public bool IsRelaying => Volatile.Read(ref _relaying) == 1;

    /// <summary>Where checks, DTLS and media go: the server's candidate unless overridden (e.g. a relay).</summary>
    public IPEndPoint? RemoteEndPoint { get; private set; }

    /// <summary>Whether checks carry USE-CANDIDATE (aggressive nomination, the default).</summary>
    public bool UseCandidate { get; set; } = true;

    /// <summary>Clear to stop all ICE checks (consent lapses at the server after its timeout).</summary>
    public bool ChecksEnabled { get; set; } = true;

    public bool IsIceConnected => Interlocked.Read(ref _lastResponseAt) != 0;

    public bool IsConnected => Volatile.Read(ref _outbound) is not null;

    public DtlsState DtlsState => _dtls.State;

    public string? DtlsFailureReason => _dtls.FailureReason;

    public SrtpProfile? SrtpProfile => _dtls.SrtpProfile;

    /// <summary>Our address as the server saw it on the last verified Binding response.</summary>
    public IPEndPoint? MappedEndPoint
    {
        get
        {
            lock (_iceGate)
            {
                return _ice.MappedEndPoint;
            }
        }
    }

    /// <summary>When the last verified Binding response arrived (<see cref="TimeProvider.GetTimestamp"/>), 0 before any.</summary>
    public long LastResponseTimestamp => Interlocked.Read(ref _lastResponseAt);

    public long ChecksSent => Interlocked.Read(ref _checksSent);

    public long CheckResponses => Interlocked.Read(ref _checkResponses);

    /// <summary>STUN datagrams that were not a verified answer to one of our checks.</summary>
    public long BadResponses => Interlocked.Read(ref _badResponses);

    /// <summary>Binding requests from the server answered (a server that runs its own checks; ICE-lite sends none).</summary>
    public long RequestsAnswered => Interlocked.Read(ref _requestsAnswered);

    public long RtpSent => Interlocked.Read(ref _rtpSent);

    public long RtcpSent => Interlocked.Read(ref _rtcpSent);

    /// <summary>
    /// When the kernel received the datagram being delivered to <see cref="Listener"/>, a Stopwatch timestamp: for a
    /// listener's callback only (one system call). What a one-way latency is measured against, leaving out the time
    /// the datagram then waited for this process.
    /// </summary>
    public long DatagramReceivedAt() => _deliveringSocket is { } socket ? KernelArrival.LastReceived(socket) : System.Diagnostics.Stopwatch.GetTimestamp();

    public long RtpReceived => Interlocked.Read(ref _rtpReceived);

    public long RtcpReceived => Interlocked.Read(ref _rtcpReceived);

    public long SrtpFailures => Interlocked.Read(ref _srtpFailures);

    /// <summary>
    /// Starts checking the server and, once a check succeeds, the DTLS handshake.
    /// </summary>
    /// <param name="remote">The server's parameters from its SDP.</param>
    /// <param name="sendTo">Where to send instead of the server's candidate (a relay in front of it).</param>
    public void Start(RemoteTransport remote, IPEndPoint? sendTo = null)
    {
        ArgumentNullException.ThrowIfNull(remote);
        lock (_iceGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started)
            {
                throw new InvalidOperationException("already started; use RestartIce for new credentials");
            }

            var destination = sendTo ?? (_iceTcp is null ? remote.Candidate : remote.TcpCandidate)
                ?? throw new InvalidOperationException("ICE-TCP, but the server offered no tcptype passive candidate (disabled there)");
            _started = true;
            _ice.SetCredentials(_ice.Local, remote.Ice);
            RemoteEndPoint = destination;
            _remote = RemoteEndPoint.Serialize();
        }

        _dtls.SetRemoteFingerprint(remote.Fingerprint);
        if (_iceTcp is { } tcp)
        {
            StartIceTcp(tcp);
        }
        else
        {
            _ = ReceiveLoopAsync(_socket, _receiving.Token);
        }

        _udpCandidate = remote.Candidate;
        if (_relay is not null && _options.RelayFallbackAfter is { } fallback)
        {
            Volatile.Write(ref _relayFallbackAt, TimeProvider.System.GetTimestamp() + (long)(fallback.TotalSeconds * TimeProvider.System.TimestampFrequency));
        }
        else if (_relay is not null)
        {
            StartRelaying();
        }

        ClientHeartbeat.Register(this);
        SendCheck();
    }

    /// <summary>
    /// ICE restart: new credentials on both sides (the caller puts <paramref name="local"/> in its SDP).
    /// DTLS and SRTP carry on; the next check uses the new credentials at once.
    /// </summary>
    public void RestartIce(IceCredentials remote, IceCredentials? local = null)
    {
        lock (_iceGate)
        {
            _ice.SetCredentials(local ?? _ice.Local, remote);
        }

        SendCheck();
    }

    /// <summary>New local ICE credentials for a restart offer, not used until <see cref="RestartIce"/>.</summary>
    public static IceCredentials NewIceCredentials() => IceCredentials.Generate();

    /// <summary>Waits until SRTP keys exist; throws if DTLS fails or the time runs out.</summary>
    public Task WaitConnectedAsync(TimeSpan timeout) => _connected.Task.WaitAsync(timeout);

    /// <summary>
    /// Moves to a new socket (by default on the same address, a new port): exactly a NAT rebinding from the
    /// server's side. The old socket is closed, so anything the server still sends there is lost; a check
    /// goes out from the new socket at once (with USE-CANDIDATE if <see cref="UseCandidate"/>). In ICE-TCP mode: a new
    /// TCP connection to the server (the old one closed), the check going out as soon as it is connected.
    /// </summary>
    public Task<IPEndPoint> RebindAsync(IPEndPoint? newLocalEndPoint = null)
    {
        if (IsRelaying)
        {
            throw new InvalidOperationException("a relayed transport does not rebind: its TURN allocation belongs to its socket");
        }

        if (Volatile.Read(ref _iceTcp) is not null)
        {
            var connection = new ClientIceTcpConnection(newLocalEndPoint ?? new IPEndPoint(_options.LocalEndPoint.Address, 0), _options.IceTcpShaping);
            Interlocked.Exchange(ref _iceTcp, connection)!.Dispose();
            Volatile.Write(ref _deadPath, null);
            if (_started)
            {
                StartIceTcp(connection);
            }

            return Task.FromResult(connection.LocalEndPoint);
        }

        var fresh = Bind(newLocalEndPoint ?? new IPEndPoint(LocalEndPoint.Address, 0), _options.CreateSocket);
        var receiving = new CancellationTokenSource();
        var old = Interlocked.Exchange(ref _socket, fresh);
        var oldReceiving = Interlocked.Exchange(ref _receiving, receiving);
        oldReceiving.Cancel();
        old.Dispose();
        oldReceiving.Dispose();
        if (_started)
        {
            _ = ReceiveLoopAsync(fresh, receiving.Token);
            SendCheck();
        }

        return Task.FromResult((IPEndPoint)fresh.LocalEndPoint!);
    }

    /// <summary>
    /// Leaves ICE-TCP for UDP: closes the TCP connection and checks the server's UDP candidate from the transport's UDP
    /// socket at once (with USE-CANDIDATE if <see cref="UseCandidate"/>), as a client whose network lets UDP through
    /// again. The server takes it as a new path of the same transport; DTLS, SRTP and data channels carry on.
    /// </summary>
    public void MoveToUdp()
    {
        var tcp = Interlocked.Exchange(ref _iceTcp, null) ?? throw new InvalidOperationException("the transport is not on ICE-TCP");
        tcp.Dispose();
        Volatile.Write(ref _deadPath, null);
        if (_udpCandidate is not { } udp)
        {
            return;
        }

        lock (_iceGate)
        {
            RemoteEndPoint = udp;
            _remote = udp.Serialize();
        }

        _ = ReceiveLoopAsync(Volatile.Read(ref _socket), _receiving.Token);
        SendCheck();
    }

    /// <summary>Sends one connectivity check now, whatever the schedule.</summary>
    public void SendCheck() => SendCheck(UseCandidate);

    public void SendCheck(bool useCandidate)
    {
        Span<byte> buffer = stackalloc byte[IceStunMessages.MaxMessageLength];
        int length;
        lock (_iceGate)
        {
            if (_ice.Remote is null)
            {
                return;
            }

            length = _ice.WriteCheck(buffer, useCandidate);
            _nextCheckAt = TimeProvider.System.GetTimestamp() + (IsIceConnected ? _consentInterval : _checkInterval);
        }

        if (length > 0 && SendRaw(buffer[..length]))
        {
            Interlocked.Increment(ref _checksSent);
        }
    }

    /// <summary>Protects and sends one RTP packet; false when not connected yet or the packet is not RTP.</summary>
    public bool SendRtp(ReadOnlySpan<byte> packet)
    {
        var srtp = Volatile.Read(ref _outbound);
        byte[] buffer = t_sendBuffer ??= new byte[MaxDatagramSize + 64];
        if (srtp is null || packet.Length > MaxDatagramSize)
        {
            return false;
        }

        packet.CopyTo(buffer);
        if (srtp.Protect(buffer, packet.Length, out int length) != SrtpStatus.Ok || !SendRaw(buffer.AsSpan(0, length)))
        {
            return false;
        }

        Interlocked.Increment(ref _rtpSent);
        return true;
    }

    /// <summary>Protects and sends one (compound) RTCP packet.</summary>
    public bool SendRtcp(ReadOnlySpan<byte> compound)
    {
        var srtp = Volatile.Read(ref _outbound);
        byte[] buffer = t_sendBuffer ??= new byte[MaxDatagramSize + 64];
        if (srtp is null || compound.Length > MaxDatagramSize)
        {
            return false;
        }

        compound.CopyTo(buffer);
        if (srtp.ProtectRtcp(buffer, compound.Length, out int length) != SrtpStatus.Ok || !SendRaw(buffer.AsSpan(0, length)))
        {
            return false;
        }

        Interlocked.Increment(ref _rtcpSent);
        return true;
    }

    /// <summary>Sends a datagram as is, from the transport's socket to the server (or its override), or through the TURN relay.</summary>
    public bool SendRaw(ReadOnlySpan<byte> datagram)
    {
        if (Volatile.Read(ref _relaying) == 1)
        {
            return _relay!.SendToPeer(datagram);
        }

        if (Volatile.Read(ref _iceTcp) is { } tcp)
        {
            return tcp.Send(datagram);
        }

        try
        {
            return Volatile.Read(ref _socket).SendTo(datagram, SocketFlags.None, _remote) == datagram.Length;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Sends a datagram as is, from the transport's socket to an address in its socket form.</summary>
    private bool SendRawTo(ReadOnlySpan<byte> datagram, SocketAddress destination)
    {
        try
        {
            return Volatile.Read(ref _socket).SendTo(datagram, SocketFlags.None, destination) == datagram.Length;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Sends a datagram as is, from the transport's socket to any address.</summary>
    public bool SendRawTo(ReadOnlySpan<byte> datagram, IPEndPoint destination)
    {
        try
        {
            return Volatile.Read(ref _socket).SendTo(datagram, SocketFlags.None, destination) == datagram.Length;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    void IDtlsPacketSink.SendDtls(ReadOnlySpan<byte> datagram)
    {
        lock (_iceGate)
        {
            if (_unansweredFlight is { } flight && datagram.Length <= flight.Length)
            {
                datagram.CopyTo(flight);
                _unansweredFlightLength = datagram.Length;
                _flightResendInterval = FirstFlightResend;
                _flightResendAt = TimeProvider.System.GetTimestamp() + FirstFlightResend;
            }
        }

        SendRaw(datagram);
    }

    public void Dispose()
    {
        lock (_iceGate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        ClientHeartbeat.Unregister(this);
        _dtls.Dispose();
        _relay?.Close();
        _turnTcp?.Dispose();
        Volatile.Read(ref _iceTcp)?.Dispose();
        _receiving.Cancel();
        Volatile.Read(ref _socket).Dispose();
        Volatile.Read(ref _outbound)?.Dispose();
        Volatile.Read(ref _inbound)?.Dispose();
        _connected.TrySetException(new ObjectDisposedException(nameof(ClientTransport)));
    }

    internal void OnHeartbeat(long now)
    {
        if (ChecksEnabled && now >= Volatile.Read(ref _nextCheckAt))
        {
            SendCheck();
        }

        ResendUnansweredFlight(now);
        Volatile.Read(ref _iceTcp)?.Flush();
        if (_relay is not null && !IsIceConnected && now >= Volatile.Read(ref _relayFallbackAt))
        {
            // Nothing answered on the direct path in time: what a browser's ICE does with its relay candidate, in turn.
            Volatile.Write(ref _relayFallbackAt, long.MaxValue);
            StartRelaying();
        }

        _relay?.OnHeartbeat(now);
        DataChannels.OnHeartbeat(TimeProvider.System.GetUtcNow());
        if (_dtls.NextTimeout is { } due && due <= TimeProvider.System.GetUtcNow())
        {
            _dtls.HandleTimeout();
        }
    }

    private static Socket Bind(IPEndPoint local, Func<AddressFamily, Socket>? create)
    {
        var socket = create?.Invoke(local.AddressFamily) ?? new Socket(local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.ReceiveBufferSize = 1 << 20;
        socket.SendBufferSize = 1 << 20;
        socket.Bind(local);
        KernelArrival.Enable(socket);
        return socket;
    }

    private async Task ReceiveLoopAsync(Socket socket, CancellationToken stopping)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(65536, pinned: true);
        var from = new SocketAddress(socket.AddressFamily);
        while (!stopping.IsCancellationRequested)
        {
            int length;
            try
            {
                length = await socket.ReceiveFromAsync(buffer, SocketFlags.None, from, stopping);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize)
            {
                // An ICMP error for an earlier send, or an oversized datagram: nothing to read, keep going.
                continue;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            try
            {
                _deliveringSocket = socket;
                if (Volatile.Read(ref _relaying) == 0)
                {
                    OnDatagram(buffer.AsSpan(0, length), from);
                }
                else if (_turnServer is not null && from.Equals(_turnServer))
                {
                    _relay!.OnFrame(buffer.AsSpan(0, length));
                }
            }
            catch (Exception) when (!stopping.IsCancellationRequested)
            {
                // A listener that throws must not end the loop; the datagram is simply lost.
            }
        }
    }

    /// <summary>Demultiplexes by first byte (RFC 7983): STUN, DTLS, then RTP or RTCP (RFC 5761).</summary>
    private void OnDatagram(Span<byte> datagram, SocketAddress from)
    {
        if (datagram.IsEmpty)
        {
            return;
        }

        byte first = datagram[0];
        if (first <= 3)
        {
            OnStun(datagram, from);
        }
        else if (first is >= 20 and <= 63)
        {
            lock (_iceGate)
            {
                _unansweredFlight = null;
            }

            _dtls.Feed(datagram);
        }
        else if (first is >= 128 and <= 191 && datagram.Length >= 12)
        {
            OnSrtp(datagram);
        }
    }

    private void OnStun(ReadOnlySpan<byte> datagram, SocketAddress from)
    {
        IceResponse result;
        Span<byte> answer = stackalloc byte[IceStunMessages.MaxMessageLength];
        int answerLength;
        lock (_iceGate)
        {
            answerLength = _ice.AnswerRequest(datagram, from, answer);
            result = answerLength > 0 ? IceResponse.Unexpected : _ice.HandleResponse(datagram);
        }

        if (answerLength > 0)
        {
            Interlocked.Increment(ref _requestsAnswered);
            if (!IsRelaying && _iceTcp is null)
            {
                SendRawTo(answer[..answerLength], from);
            }
            else
            {
                SendRaw(answer[..answerLength]);
            }

            return;
        }

        if (result != IceResponse.Success)
        {
            Interlocked.Increment(ref _badResponses);
            return;
        }

        Interlocked.Increment(ref _checkResponses);
        bool first = Interlocked.Exchange(ref _lastResponseAt, TimeProvider.System.GetTimestamp()) == 0;
        if (first)
        {
            // Like a browser, DTLS waits for a working ICE pair, and checks slow down to the consent pace.
            Volatile.Write(ref _nextCheckAt, TimeProvider.System.GetTimestamp() + _consentInterval);
            _dtls.Start();
        }
    }

    /// <summary>From now on everything goes through the relay, to the server's candidate: allocation first.</summary>
    private void StartRelaying()
    {
        if (Interlocked.Exchange(ref _relaying, 1) == 1)
        {
            return;
        }

        if (_turnTcp is not null)
        {
            _ = _turnTcp.RunAsync(_relay!, _options.Relay!.Server, _udpCandidate!);
        }
        else
        {
            _relay!.Start(_udpCandidate!);
        }
    }

    /// <summary>Connects <paramref name="connection"/> and reads it; the first check goes out as soon as it is connected.</summary>
    private void StartIceTcp(ClientIceTcpConnection connection) =>
        _ = connection.RunAsync(RemoteEndPoint!, SendCheck, OnIceTcpPacket, reason => OnIceTcpClosed(connection, reason));

    /// <summary>A packet from the ICE-TCP connection: from the server's candidate, as a datagram would be.</summary>
    private void OnIceTcpPacket(Span<byte> packet)
    {
        _deliveringSocket = null;
        OnDatagram(packet, _remote);
    }

    private void OnIceTcpClosed(ClientIceTcpConnection connection, string reason)
    {
        // A connection replaced by RebindAsync is not the current path.
        if (Volatile.Read(ref _iceTcp) == connection)
        {
            Volatile.Write(ref _deadPath, reason);
            PathDied?.Invoke(this, reason);
        }
    }

    /// <summary>A datagram from the server that came through the TURN relay: it is from the server's candidate.</summary>
    private void OnRelayedDatagram(Span<byte> datagram) => OnDatagram(datagram, _remote);

    private void OnSrtp(Span<byte> datagram)
    {
        var inbound = Volatile.Read(ref _inbound);
        if (inbound is null)
        {
            Interlocked.Increment(ref _srtpFailures);
            return;
        }

        // RTCP packet types 192..223 sit where RTP would have marker + payload type 64..95 (RFC 5761 section 4).
        bool rtcp = datagram[1] is >= 192 and <= 223;
        int length;
        SrtpStatus status = rtcp
            ? inbound.UnprotectRtcp(datagram, datagram.Length, out length)
            : inbound.Unprotect(datagram, datagram.Length, out length);
        if (status != SrtpStatus.Ok)
        {
            Interlocked.Increment(ref _srtpFailures);
            return;
        }

        if (rtcp)
        {
            Interlocked.Increment(ref _rtcpReceived);
            Listener?.OnRtcp(this, datagram[..length]);
        }
        else
        {
            Interlocked.Increment(ref _rtpReceived);
            Listener?.OnRtp(this, datagram[..length]);
        }
    }

    /// <summary>
    /// A server that runs its own checks (Janus's libnice does, even in ICE-lite mode) reads DTLS only once it took
    /// the pair, which can be just after our own check succeeded and our ClientHello went out: that one is dropped, and
    /// OpenSSL would resend it only after its 1 s timer. Like a browser's DTLS (first resend after 50 ms, then doubling),
    /// the client resends it sooner, but only to a server that checks us: our ICE-lite server reads DTLS at once.
    /// </summary>
    private void ResendUnansweredFlight(long now)
    {
        Span<byte> flight = stackalloc byte[MaxDatagramSize];
        int length;
        lock (_iceGate)
        {
            if (_unansweredFlight is null || _unansweredFlightLength == 0 || now < _flightResendAt || Interlocked.Read(ref _requestsAnswered) == 0)
            {
                return;
            }

            length = _unansweredFlightLength;
            _unansweredFlight.AsSpan(0, length).CopyTo(flight);
            _flightResendInterval *= 2;
            _flightResendAt = now + _flightResendInterval;
        }

        SendRaw(flight[..length]);
    }

    private void OnDtlsStateChanged(DtlsTransport dtls, DtlsState state)
    {
        switch (state)
        {
            case DtlsState.Connected when dtls.SrtpKeys is { } keys:
                Volatile.Write(ref _inbound, new SrtpContext(keys.Remote));
                Volatile.Write(ref _outbound, new SrtpContext(keys.Local));
                _connected.TrySetResult();
                DataChannels.OnDtlsConnected();
                Connected?.Invoke(this);
                break;
            case DtlsState.Failed or DtlsState.Closed:
                _connected.TrySetException(new InvalidOperationException($"DTLS {state}: {dtls.FailureReason}"));
                break;
        }
    }
}
