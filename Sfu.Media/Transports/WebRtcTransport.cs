using System.Net;
using Sfu.Media.DataChannels;
using Sfu.Media.Diagnostics;
using Sfu.Media.Dtls;
using Sfu.Media.IceTcp;
using Sfu.Media.Sctp;
using Sfu.Media.Sdp;
using Sfu.Media.Srtp;
using Sfu.Media.Stun;
using Sfu.Media.Worker;

namespace Sfu.Media.Transports;

/// <summary>
/// One WebRTC transport (a client's PeerConnection, BUNDLEd with rtcp-mux) on the shared UDP port and the ICE-TCP
/// port: ICE-lite with per-path consent, DTLS server role, SRTP in and out. A path is a client address on UDP or one
/// ICE-TCP connection; media goes to exactly one of them, the selected path, which only an authenticated ICE check
/// can change: nominated by the client, or taking over from a path that went silent, on either protocol. Lives on
/// the media worker's thread. The path rules themselves are <see cref="IcePathSelector"/>'s; this class authenticates
/// checks, answers them, and acts on what the selector decides. When the SDP negotiated a data channel section, an SCTP association runs over the
/// DTLS as well (<see cref="EnableDataChannels"/>), its timers driven by the worker's tick like DTLS's.
/// </summary>
public sealed class WebRtcTransport : IDtlsPacketSink, IIcePathListener, IDisposable
{
    private readonly ITransportHost _host;
    private readonly ITransportListener _listener;
    private readonly DtlsContext _dtlsContext;
    private DtlsTransport _dtls;
    private DtlsFingerprint? _remoteFingerprint;
    private readonly IcePathSelector _paths;
    private readonly byte[] _stunResponse = new byte[IceStunMessages.MaxMessageLength];
    private SrtpContext? _inbound;
    private SrtpContext? _outbound;
    private PathProtocol? _lastProtocol;
    private long _recoveryStartedAt = -1;
    private long _sendingPausedUntil;
    private bool _disposed;
    private SctpAssociationOptions? _sctpOptions;
    private IDataChannelListener? _dataListener;
    private readonly DataChannelCounterFold _dataCounters = new();

    internal WebRtcTransport(ITransportHost host, string id, TransportDirection direction, DtlsContext dtlsContext, ITransportListener listener)
    {
        _host = host;
        _listener = listener;
        Id = id;
        Direction = direction;
        LocalIce = IceCredentials.Generate();
        LocalFingerprint = dtlsContext.Certificate.Fingerprint;
        _dtlsContext = dtlsContext;
        _dtls = NewDtls();
        _paths = new IcePathSelector(host.Time, TimeSpan.FromMilliseconds(host.Options.SilentPathSwitchMs),
            TimeSpan.FromMilliseconds(host.Options.ConsentTimeoutMs), this);
        host.Table.Add(this);
        host.Metrics.TransportOpened();
    }

    public string Id { get; }

    public TransportDirection Direction { get; }

    public IceCredentials LocalIce { get; private set; }

    public DtlsFingerprint LocalFingerprint { get; }

    public bool IsConnected => _outbound is not null;

    /// <summary>Whether a packet sent now would go out: keyed, with a selected path.</summary>
    public bool CanSend => _outbound is not null && _paths.Selected is not null;

    /// <summary>Where media to the client goes now; null before the first check and after consent lapsed.</summary>
    public SocketAddress? SelectedAddress => _paths.Selected?.Address;

    /// <summary>How media reaches the client now (UDP, ICE-TCP, or UDP through a TURN relay); null without a selected path.</summary>
    public PathProtocol? SelectedProtocol => _paths.Selected is { } selected ? ProtocolOf(selected) : null;

    /// <summary>The SRTP overhead a caller must leave room for after an RTP packet passed to <see cref="SendRtp"/>.</summary>
    public const int MaxProtectionOverhead = 32;

    /// <summary>The data channels over this transport's DTLS; null until <see cref="EnableDataChannels"/>.</summary>
    public DataChannelTransport? DataChannels { get; private set; }

    private string DirectionLabel => Direction == TransportDirection.Publish ? "publish" : "subscribe";

    /// <summary>The client's DTLS fingerprint from its SDP; the handshake fails if the certificate differs.</summary>
    public void SetRemoteFingerprint(DtlsFingerprint fingerprint)
    {
        _remoteFingerprint = fingerprint;
        _dtls.SetRemoteFingerprint(fingerprint);
    }

    /// <summary>
    /// The SDP negotiated a data channel section: from now on the DTLS also carries SCTP (RFC 8261). Both ends open the
    /// association (each sends INIT once DTLS is up; crossing INITs end in one association), so neither waits for the
    /// other. Later calls (renegotiations) change nothing: one association lives as long as the DTLS under it.
    /// </summary>
    public void EnableDataChannels(SctpDescription sctp, IDataChannelListener listener)
    {
        ArgumentNullException.ThrowIfNull(sctp);
        ArgumentNullException.ThrowIfNull(listener);
        if (_sctpOptions is not null || _disposed) return;
        _sctpOptions = new SctpAssociationOptions { Port = sctp.Port, MaxMessageSize = sctp.MaxMessageSize };
        _dataListener = listener;
        StartDataChannels();
    }

    private void StartDataChannels()
    {
        if (_sctpOptions is null || _dataListener is null) return;
        if (DataChannels is { } previous)
        {
            // A new DTLS session means a new association (the old one cannot be carried over): its channels close.
            _dataCounters.Fold(previous, _host.Metrics.DataChannels);
            previous.Association.Abort("DTLS restarted");
        }

        _dataCounters.Restart();
        DataChannels = new DataChannelTransport(_dtls, _sctpOptions, new EstablishmentCounter(_dataListener, _host.Metrics.DataChannels), _host.Time);
        if (_dtls.State == DtlsState.Connected) DataChannels.Association.Connect();
    }

    /// <summary>
    /// New local ICE credentials (ICE restart). Verified paths stay usable until their consent lapses, so
    /// media keeps flowing while the client runs its new checks; DTLS and SRTP carry on untouched.
    /// </summary>
    public IceCredentials RestartIce()
    {
        var old = LocalIce.Ufrag;
        LocalIce = IceCredentials.Generate();
        _host.Table.ReplaceUfrag(this, old);
        _host.Metrics.IceRestart(DirectionLabel);
        return LocalIce;
    }

    /// <summary>Fault injection: stop sending media to the client for a while.</summary>
    public void PauseSending(TimeSpan duration) =>
        _sendingPausedUntil = _host.Time.GetTimestamp() + (long)(duration.TotalSeconds * _host.Time.TimestampFrequency);

    /// <summary>Fault injection: forget every verified path, as if the client's address had vanished.</summary>
    public void ForgetPaths()
    {
        foreach (var path in _paths.ForgetAll()) _host.Table.UnmapPath(path, this);
    }

    /// <summary>
    /// Another transport's client proved it owns <paramref name="address"/> now: this transport stops using it. If it
    /// carried media, the next tick moves to another verified path, or reports the media path lost.
    /// </summary>
    internal void ForgetPath(SocketAddress address, IceTcpConnection? connection) => _paths.Forget(address, connection);

    /// <summary>
    /// An ICE-TCP connection of this transport closed: that path is dead (the client is not; it may have others or
    /// come back). Like a lapsed consent, the next tick moves media to another verified path or reports it lost.
    /// </summary>
    internal void OnTcpConnectionClosed(IceTcpConnection connection)
    {
        if (_paths.Forget(connection.RemoteAddress, connection) is not { } path) return;
        _host.Metrics.TcpPathClosed();
        _host.Table.UnmapPath(path, this);
    }

    /// <param name="datagram">A STUN message.</param>
    /// <param name="from">The client address it came from (for ICE-TCP, the connection's remote address).</param>
    /// <param name="tcp">The ICE-TCP connection it came on; null for UDP.</param>
    internal void ReceiveStun(Span<byte> datagram, SocketAddress from, IceTcpConnection? tcp = null)
    {
        var known = _paths.Find(from, tcp);
        if (!StunMessageReader.TryParse(datagram, out var message))
        {
            _host.Metrics.Dropped(DropReason.Malformed);
            return;
        }
        if (message.Class != StunClass.Request || message.Method != StunMethod.Binding)
        {
            // ICE-lite sends no requests, so responses are strays; indications carry no proof of anything.
            _host.Metrics.Dropped(DropReason.Malformed);
            return;
        }
        if (!Authenticate(message))
        {
            _host.Metrics.Dropped(DropReason.AuthFailure);
            if (known is null) _host.Metrics.RebindRefused(message.HasMessageIntegrity ? "wrong-credentials" : "unauthenticated");
            return;
        }

        var length = IceStunMessages.WriteBindingSuccess(_stunResponse, message.TransactionId, from, LocalIce.PasswordBytes);
        if (length > 0)
        {
            if (tcp is null) _host.Send(_stunResponse.AsSpan(0, length), from);
            else _host.SendTcp(_stunResponse.AsSpan(0, length), tcp);
        }

        _paths.OnAuthenticatedCheck(from, tcp, message.UseCandidate);
        _listener.OnTransportActivity(this);
    }

    internal void ReceiveDtls(Span<byte> datagram, SocketAddress from, IceTcpConnection? tcp = null)
    {
        var path = _paths.Find(from, tcp);
        if (path is null)
        {
            _host.Metrics.Dropped(DropReason.UnknownSource);
            return;
        }
        _paths.OnReceived(path);
        _dtls.Feed(datagram);
    }

    internal void ReceiveRtpOrRtcp(Span<byte> datagram, SocketAddress from, IceTcpConnection? tcp = null)
    {
        var path = _paths.Find(from, tcp);
        if (path is null)
        {
            _host.Metrics.Dropped(DropReason.UnknownSource);
            return;
        }
        if (_inbound is null)
        {
            _host.Metrics.Dropped(DropReason.NotConnected);
            return;
        }
        // RFC 5761: with rtcp-mux, RTCP packet types 192-223 occupy the second byte where RTP has M+PT.
        var isRtcp = datagram.Length >= 2 && datagram[1] is >= 192 and <= 223;
        var status = isRtcp
            ? _inbound.UnprotectRtcp(datagram, datagram.Length, out var length)
            : _inbound.Unprotect(datagram, datagram.Length, out length);
        if (status != SrtpStatus.Ok)
        {
            _host.Metrics.Dropped(status switch
            {
                SrtpStatus.ReplayDuplicate or SrtpStatus.ReplayOld => DropReason.Replay,
                SrtpStatus.Malformed => DropReason.Malformed,
                _ => DropReason.SrtpFailure,
            });
            return;
        }
        _paths.OnReceived(path);
        _listener.OnTransportActivity(this);
        if (isRtcp) _listener.OnRtcp(this, datagram[..length]);
        else _listener.OnRtp(this, datagram[..length]);
    }

    /// <summary>
    /// Protects an RTP packet in place and sends it to the selected path. <paramref name="buffer"/> must hold
    /// <see cref="MaxProtectionOverhead"/> spare bytes after <paramref name="length"/>.
    /// </summary>
    public bool SendRtp(Span<byte> buffer, int length) => Send(buffer, length, rtcp: false);

    /// <summary>Protects an RTCP compound packet in place and sends it; same buffer rule as <see cref="SendRtp"/>.</summary>
    public bool SendRtcp(Span<byte> buffer, int length) => Send(buffer, length, rtcp: true);

    private bool Send(Span<byte> buffer, int length, bool rtcp)
    {
        if (_outbound is null || _paths.Selected is not { } selected) return false;
        if (_sendingPausedUntil != 0)
        {
            if (_host.Time.GetTimestamp() < _sendingPausedUntil) return false;
            _sendingPausedUntil = 0;
        }
        var status = rtcp ? _outbound.ProtectRtcp(buffer, length, out var protectedLength) : _outbound.Protect(buffer, length, out protectedLength);
        if (status != SrtpStatus.Ok)
        {
            _host.Metrics.Dropped(DropReason.SrtpFailure);
            return false;
        }
        if (!SendTo(selected, buffer[..protectedLength])) return false;
        if (_recoveryStartedAt >= 0 && !rtcp)
        {
            _host.Metrics.Recovered(_host.Time.GetElapsedTime(_recoveryStartedAt));
            _recoveryStartedAt = -1;
        }
        return true;
    }

    void IDtlsPacketSink.SendDtls(ReadOnlySpan<byte> datagram)
    {
        if (_paths.Selected is { } selected) SendTo(selected, datagram);
    }

    private bool SendTo(IcePath path, ReadOnlySpan<byte> datagram) =>
        path.Connection is { } tcp ? _host.SendTcp(datagram, tcp) : _host.Send(datagram, path.Address);

    /// <summary>Timers: DTLS and SCTP retransmission, the listener's, and the path rules' (consent, silent-path switch).</summary>
    internal void OnTick(long now)
    {
        if (_disposed) return;
        if (_dtls.NextTimeout is { } due && _host.Time.GetUtcNow() >= due) _dtls.HandleTimeout();
        if (DataChannels is { } data)
        {
            if (data.Association.NextTimeout is { } sctpDue && _host.Time.GetUtcNow() >= sctpDue) data.Association.HandleTimeout();
            _dataCounters.Fold(data, _host.Metrics.DataChannels);
        }
        _listener.OnTick(this, now);
        _paths.OnTick(keyed: IsConnected);
    }

    private bool Authenticate(StunMessageReader message)
    {
        if (!message.HasMessageIntegrity || !message.TryGetUsername(out var username)) return false;
        if (!IceUsername.TrySplit(username, out var localUfrag, out _) || !localUfrag.SequenceEqual(LocalIce.UfragBytes)) return false;
        if (message.HasFingerprint && !message.VerifyFingerprint()) return false;
        return message.VerifyMessageIntegrity(LocalIce.PasswordBytes);
    }

    void IIcePathListener.OnPathVerified(IcePath path)
    {
        _host.Table.MapPath(path, this);
        path.Connection?.MarkVerified();
    }

    void IIcePathListener.OnPathDropped(IcePath path, bool consentExpired)
    {
        _host.Table.UnmapPath(path, this);
        path.Connection?.Close();
        if (consentExpired) _host.Metrics.ConsentExpired();
    }

    void IIcePathListener.OnSelectedPathChanged(IcePath? previous, IcePath? current)
    {
        if (previous is not null) _host.Metrics.SelectedPathClosed(ProtocolOf(previous));
        if (current is not null) _host.Metrics.SelectedPathOpened(ProtocolOf(current));
    }

    void IIcePathListener.OnPathSelected(IcePath path, PathSwitchTrigger trigger)
    {
        var protocol = ProtocolOf(path);
        if (_lastProtocol is { } previous && previous != protocol) _host.Metrics.PathProtocolSwitched(previous, protocol);
        _lastProtocol = protocol;
        if (trigger == PathSwitchTrigger.Initial) return;
        _host.Metrics.Rebind(DirectionLabel, trigger switch
        {
            PathSwitchTrigger.Nominated => "nominated",
            PathSwitchTrigger.SilentPath => "silent-path",
            PathSwitchTrigger.ConsentLapsed => "consent",
            PathSwitchTrigger.Restored => "restored",
            _ => "initial",
        });
        var now = _host.Time.GetTimestamp();
        _recoveryStartedAt = path.FirstVerified <= now ? path.FirstVerified : now;
        _listener.OnPathChanged(this, trigger);
    }

    void IIcePathListener.OnMediaPathLost() => _listener.OnConsentLost(this);

    private PathProtocol ProtocolOf(IcePath path) =>
        path.IsTcp ? PathProtocol.Tcp : _host.IsRelayAddress(path.Address) ? PathProtocol.Relayed : PathProtocol.Udp;

    /// <summary>
    /// Keys SRTP both ways and opens the transport for media: what a finished DTLS handshake does. Internal,
    /// rather than private, only so the forwarding benchmark can key a transport without a handshake.
    /// </summary>
    internal void StartSrtp(SrtpKeyPair keys)
    {
        // A later handshake (after a reset) re-keys: the contexts of the earlier one go.
        _inbound?.Dispose();
        _outbound?.Dispose();
        _inbound = new SrtpContext(keys.Remote);
        _outbound = new SrtpContext(keys.Local);
        _listener.OnTransportConnected(this);
    }

    private void OnDtlsStateChanged(DtlsTransport dtls, DtlsState state)
    {
        switch (state)
        {
            case DtlsState.Connected when dtls.SrtpKeys is { } keys:
                _host.Metrics.DtlsHandshake("ok");
                StartSrtp(keys);
                if (ReferenceEquals(dtls, _dtls)) DataChannels?.Association.Connect();
                break;
            case DtlsState.Failed:
                _host.Metrics.DtlsHandshake("failed");
                _listener.OnTransportFailed(this, dtls.FailureReason ?? "DTLS failed");
                // One bad record (a forged one, or a client's broken first attempt) must not kill the transport for
                // good: a fresh DTLS endpoint takes the client's next ClientHello, and SRTP already keyed carries on.
                if (!_disposed) ResetDtls(dtls);
                break;
        }
    }

    private DtlsTransport NewDtls()
    {
        var dtls = new DtlsTransport(_dtlsContext, this, _remoteFingerprint, _host.Time);
        dtls.StateChanged += OnDtlsStateChanged;
        return dtls;
    }

    private void ResetDtls(DtlsTransport failed)
    {
        if (!ReferenceEquals(failed, _dtls)) return;
        _dtls = NewDtls();
        failed.StateChanged -= OnDtlsStateChanged;
        failed.Dispose();
        StartDataChannels();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // Paths first: the association's ABORT below must not go out (the client learns of the close from signaling).
        _paths.Close();
        if (DataChannels is { } data)
        {
            data.Association.Abort("transport closed");
            _dataCounters.Fold(data, _host.Metrics.DataChannels);
        }
        _host.Table.Remove(this);
        _dtls.Dispose();
        _inbound?.Dispose();
        _outbound?.Dispose();
        _host.Metrics.TransportClosed();
    }

    /// <summary>Counts established associations on the way to the owner's listener.</summary>
    private sealed class EstablishmentCounter(IDataChannelListener inner, DataChannelMetrics metrics) : IDataChannelListener
    {
        public void OnDataChannelsEstablished(DataChannelTransport transport)
        {
            metrics.AssociationEstablished();
            inner.OnDataChannelsEstablished(transport);
        }

        public void OnDataChannelOpened(DataChannel channel) => inner.OnDataChannelOpened(channel);

        public void OnDataChannelMessage(DataChannel channel, bool isString, ReadOnlySpan<byte> payload) => inner.OnDataChannelMessage(channel, isString, payload);

        public void OnDataChannelClosed(DataChannel channel) => inner.OnDataChannelClosed(channel);
    }
}
