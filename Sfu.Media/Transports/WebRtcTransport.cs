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
/// the media worker's thread. When the SDP negotiated a data channel section, an SCTP association runs over the
/// DTLS as well (<see cref="EnableDataChannels"/>), its timers driven by the worker's tick like DTLS's.
/// </summary>
public sealed class WebRtcTransport : IDtlsPacketSink, IDisposable
{
    private const int MaxPaths = 4;

    private readonly MediaWorker _worker;
    private readonly ITransportListener _listener;
    private readonly DtlsContext _dtlsContext;
    private DtlsTransport _dtls;
    private DtlsFingerprint? _remoteFingerprint;
    private readonly List<IcePath> _paths = [];
    private readonly byte[] _stunResponse = new byte[IceStunMessages.MaxMessageLength];
    private readonly long _silentPathSwitch;
    private readonly long _consentTimeout;
    private SrtpContext? _inbound;
    private SrtpContext? _outbound;
    private IcePath? _selected;
    private PathProtocol? _lastProtocol;
    private long _recoveryStartedAt = -1;
    private long _sendingPausedUntil;
    private bool _consentLost;
    private bool _hadPath;
    private bool _disposed;
    private SctpAssociationOptions? _sctpOptions;
    private IDataChannelListener? _dataListener;
    private readonly DataChannelCounterFold _dataCounters = new();

    public WebRtcTransport(MediaWorker worker, string id, TransportDirection direction, DtlsContext dtlsContext, ITransportListener listener)
    {
        _worker = worker;
        _listener = listener;
        Id = id;
        Direction = direction;
        LocalIce = IceCredentials.Generate();
        LocalFingerprint = dtlsContext.Certificate.Fingerprint;
        _dtlsContext = dtlsContext;
        _dtls = NewDtls();
        var frequency = worker.Time.TimestampFrequency;
        _silentPathSwitch = worker.Options.SilentPathSwitchMs * frequency / 1000;
        _consentTimeout = worker.Options.ConsentTimeoutMs * frequency / 1000;
        worker.Table.Add(this);
        worker.Metrics.TransportOpened();
    }

    public string Id { get; }

    public TransportDirection Direction { get; }

    public IceCredentials LocalIce { get; private set; }

    public DtlsFingerprint LocalFingerprint { get; }

    public bool IsConnected => _outbound is not null;

    /// <summary>Whether a packet sent now would go out: keyed, with a selected path.</summary>
    public bool CanSend => _outbound is not null && _selected is not null;

    /// <summary>Where media to the client goes now; null before the first check and after consent lapsed.</summary>
    public SocketAddress? SelectedAddress => _selected?.Address;

    /// <summary>How media reaches the client now (UDP, ICE-TCP, or UDP through a TURN relay); null without a selected path.</summary>
    public PathProtocol? SelectedProtocol => _selected is null ? null : ProtocolOf(_selected);

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
            _dataCounters.Fold(previous, _worker.Metrics.DataChannels);
            previous.Association.Abort("DTLS restarted");
        }

        _dataCounters.Restart();
        DataChannels = new DataChannelTransport(_dtls, _sctpOptions, new EstablishmentCounter(_dataListener, _worker.Metrics.DataChannels), _worker.Time);
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
        _worker.Table.ReplaceUfrag(this, old);
        _worker.Metrics.IceRestart(DirectionLabel);
        return LocalIce;
    }

    /// <summary>Fault injection: stop sending media to the client for a while.</summary>
    public void PauseSending(TimeSpan duration) =>
        _sendingPausedUntil = _worker.Time.GetTimestamp() + (long)(duration.TotalSeconds * _worker.Time.TimestampFrequency);

    /// <summary>Fault injection: forget every verified path, as if the client's address had vanished.</summary>
    public void ForgetPaths()
    {
        foreach (var path in _paths) _worker.Table.UnmapPath(path, this);
        _paths.Clear();
        SetSelected(null);
    }

    /// <summary>
    /// Another transport's client proved it owns <paramref name="address"/> now: this transport stops using it. If it
    /// carried media, the next tick moves to another verified path, or reports the media path lost.
    /// </summary>
    internal void ForgetPath(SocketAddress address, IceTcpConnection? connection)
    {
        var path = FindPath(address, connection);
        if (path is null) return;
        _paths.Remove(path);
        if (ReferenceEquals(path, _selected)) SetSelected(null);
    }

    /// <summary>
    /// An ICE-TCP connection of this transport closed: that path is dead (the client is not; it may have others or
    /// come back). Like a lapsed consent, the next tick moves media to another verified path or reports it lost.
    /// </summary>
    internal void OnTcpConnectionClosed(IceTcpConnection connection)
    {
        var path = FindPath(connection.RemoteAddress, connection);
        if (path is null) return;
        _worker.Metrics.TcpPathClosed();
        ForgetPath(path.Address, connection);
        _worker.Table.UnmapPath(path, this);
    }

    /// <param name="datagram">A STUN message.</param>
    /// <param name="from">The client address it came from (for ICE-TCP, the connection's remote address).</param>
    /// <param name="tcp">The ICE-TCP connection it came on; null for UDP.</param>
    internal void ReceiveStun(Span<byte> datagram, SocketAddress from, IceTcpConnection? tcp = null)
    {
        var known = FindPath(from, tcp);
        if (!StunMessageReader.TryParse(datagram, out var message))
        {
            _worker.Metrics.Dropped(DropReason.Malformed);
            return;
        }
        if (message.Class != StunClass.Request || message.Method != StunMethod.Binding)
        {
            // ICE-lite sends no requests, so responses are strays; indications carry no proof of anything.
            _worker.Metrics.Dropped(DropReason.Malformed);
            return;
        }
        if (!Authenticate(message))
        {
            _worker.Metrics.Dropped(DropReason.AuthFailure);
            if (known is null) _worker.Metrics.RebindRefused(message.HasMessageIntegrity ? "wrong-credentials" : "unauthenticated");
            return;
        }

        var now = _worker.Time.GetTimestamp();
        var length = IceStunMessages.WriteBindingSuccess(_stunResponse, message.TransactionId, from, LocalIce.PasswordBytes);
        if (length > 0)
        {
            if (tcp is null) _worker.Send(_stunResponse.AsSpan(0, length), from);
            else _worker.SendTcp(_stunResponse.AsSpan(0, length), tcp);
        }

        var path = known ?? AddPath(from, tcp, now);
        path.LastConsent = now;
        path.LastReceived = now;
        _consentLost = false;
        if (_selected is null) Select(path, _hadPath ? PathSwitchTrigger.Restored : PathSwitchTrigger.Initial, now);
        else if (!ReferenceEquals(path, _selected))
        {
            if (message.UseCandidate) Select(path, PathSwitchTrigger.Nominated, now);
            else if (now - _selected.LastReceived >= _silentPathSwitch) Select(path, PathSwitchTrigger.SilentPath, now);
        }
        _listener.OnTransportActivity(this);
    }

    internal void ReceiveDtls(Span<byte> datagram, SocketAddress from, IceTcpConnection? tcp = null)
    {
        var path = FindPath(from, tcp);
        if (path is null)
        {
            _worker.Metrics.Dropped(DropReason.UnknownSource);
            return;
        }
        path.LastReceived = _worker.Time.GetTimestamp();
        _dtls.Feed(datagram);
    }

    internal void ReceiveRtpOrRtcp(Span<byte> datagram, SocketAddress from, IceTcpConnection? tcp = null)
    {
        var path = FindPath(from, tcp);
        if (path is null)
        {
            _worker.Metrics.Dropped(DropReason.UnknownSource);
            return;
        }
        if (_inbound is null)
        {
            _worker.Metrics.Dropped(DropReason.NotConnected);
            return;
        }
        // RFC 5761: with rtcp-mux, RTCP packet types 192-223 occupy the second byte where RTP has M+PT.
        var isRtcp = datagram.Length >= 2 && datagram[1] is >= 192 and <= 223;
        var status = isRtcp
            ? _inbound.UnprotectRtcp(datagram, datagram.Length, out var length)
            : _inbound.Unprotect(datagram, datagram.Length, out length);
        if (status != SrtpStatus.Ok)
        {
            _worker.Metrics.Dropped(status switch
            {
                SrtpStatus.ReplayDuplicate or SrtpStatus.ReplayOld => DropReason.Replay,
                SrtpStatus.Malformed => DropReason.Malformed,
                _ => DropReason.SrtpFailure,
            });
            return;
        }
        path.LastReceived = _worker.Time.GetTimestamp();
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
        if (_outbound is null || _selected is null) return false;
        if (_sendingPausedUntil != 0)
        {
            if (_worker.Time.GetTimestamp() < _sendingPausedUntil) return false;
            _sendingPausedUntil = 0;
        }
        var status = rtcp ? _outbound.ProtectRtcp(buffer, length, out var protectedLength) : _outbound.Protect(buffer, length, out protectedLength);
        if (status != SrtpStatus.Ok)
        {
            _worker.Metrics.Dropped(DropReason.SrtpFailure);
            return false;
        }
        if (!SendTo(_selected, buffer[..protectedLength])) return false;
        if (_recoveryStartedAt >= 0 && !rtcp)
        {
            _worker.Metrics.Recovered(_worker.Time.GetElapsedTime(_recoveryStartedAt));
            _recoveryStartedAt = -1;
        }
        return true;
    }

    void IDtlsPacketSink.SendDtls(ReadOnlySpan<byte> datagram)
    {
        if (_selected is not null) SendTo(_selected, datagram);
    }

    private bool SendTo(IcePath path, ReadOnlySpan<byte> datagram) =>
        path.Connection is { } tcp ? _worker.SendTcp(datagram, tcp) : _worker.Send(datagram, path.Address);

    /// <summary>Timers: DTLS retransmission, consent expiry per path, and the silent-path switch.</summary>
    internal void OnTick(long now)
    {
        if (_disposed) return;
        if (_dtls.NextTimeout is { } due && _worker.Time.GetUtcNow() >= due) _dtls.HandleTimeout();
        if (DataChannels is { } data)
        {
            if (data.Association.NextTimeout is { } sctpDue && _worker.Time.GetUtcNow() >= sctpDue) data.Association.HandleTimeout();
            _dataCounters.Fold(data, _worker.Metrics.DataChannels);
        }
        _listener.OnTick(this, now);

        for (var i = _paths.Count - 1; i >= 0; i--)
        {
            var path = _paths[i];
            if (now - path.LastConsent < _consentTimeout) continue;
            _paths.RemoveAt(i);
            Drop(path);
            _worker.Metrics.ConsentExpired();
            if (ReferenceEquals(path, _selected)) SetSelected(null);
        }

        if (_selected is null)
        {
            var survivor = MostRecentlyVerified();
            if (survivor is not null) Select(survivor, PathSwitchTrigger.ConsentLapsed, now);
            else if (!_consentLost && IsConnected)
            {
                _consentLost = true;
                _listener.OnConsentLost(this);
            }
            return;
        }

        // A path verified after the selected one went quiet is where the client is now.
        if (now - _selected.LastReceived >= _silentPathSwitch)
        {
            var newer = MostRecentlyVerified();
            if (newer is not null && !ReferenceEquals(newer, _selected) && newer.LastConsent > _selected.LastReceived)
                Select(newer, PathSwitchTrigger.SilentPath, now);
        }
    }

    private bool Authenticate(StunMessageReader message)
    {
        if (!message.HasMessageIntegrity || !message.TryGetUsername(out var username)) return false;
        if (!IceUsername.TrySplit(username, out var localUfrag, out _) || !localUfrag.SequenceEqual(LocalIce.UfragBytes)) return false;
        if (message.HasFingerprint && !message.VerifyFingerprint()) return false;
        return message.VerifyMessageIntegrity(LocalIce.PasswordBytes);
    }

    private void Select(IcePath path, PathSwitchTrigger trigger, long now)
    {
        SetSelected(path);
        var protocol = ProtocolOf(path);
        if (_lastProtocol is { } previous && previous != protocol) _worker.Metrics.PathProtocolSwitched(previous, protocol);
        _lastProtocol = protocol;
        if (trigger == PathSwitchTrigger.Initial)
        {
            _hadPath = true;
            return;
        }
        _worker.Metrics.Rebind(DirectionLabel, trigger switch
        {
            PathSwitchTrigger.Nominated => "nominated",
            PathSwitchTrigger.SilentPath => "silent-path",
            PathSwitchTrigger.ConsentLapsed => "consent",
            PathSwitchTrigger.Restored => "restored",
            _ => "initial",
        });
        _recoveryStartedAt = path.FirstVerified <= now ? path.FirstVerified : now;
        _listener.OnPathChanged(this, trigger);
    }

    private IcePath AddPath(SocketAddress from, IceTcpConnection? tcp, long now)
    {
        if (_paths.Count == MaxPaths)
        {
            // Forget the stalest path that is not carrying media.
            var stalest = _paths.Where(p => !ReferenceEquals(p, _selected)).MinBy(p => p.LastConsent)!;
            _paths.Remove(stalest);
            Drop(stalest);
        }
        var copy = new SocketAddress(from.Family, from.Size);
        from.Buffer.Span.CopyTo(copy.Buffer.Span);
        var path = new IcePath(copy, tcp, now);
        _paths.Add(path);
        _worker.Table.MapPath(path, this);
        tcp?.MarkVerified();
        return path;
    }

    /// <summary>A path this transport gives up: no more routing to it, and an ICE-TCP connection under it is closed, since nothing else can use it.</summary>
    private void Drop(IcePath path)
    {
        _worker.Table.UnmapPath(path, this);
        path.Connection?.Close();
    }

    private void SetSelected(IcePath? path)
    {
        if (ReferenceEquals(path, _selected)) return;
        if (_selected is not null) _worker.Metrics.SelectedPathClosed(ProtocolOf(_selected));
        _selected = path;
        if (path is not null) _worker.Metrics.SelectedPathOpened(ProtocolOf(path));
    }

    private PathProtocol ProtocolOf(IcePath path) =>
        path.IsTcp ? PathProtocol.Tcp : _worker.IsRelayAddress(path.Address) ? PathProtocol.Relayed : PathProtocol.Udp;

    private IcePath? FindPath(SocketAddress from, IceTcpConnection? tcp)
    {
        foreach (var path in _paths)
        {
            if (path.Matches(from, tcp)) return path;
        }
        return null;
    }

    private IcePath? MostRecentlyVerified()
    {
        IcePath? best = null;
        foreach (var path in _paths)
        {
            if (best is null || path.LastConsent > best.LastConsent) best = path;
        }
        return best;
    }

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
                _worker.Metrics.DtlsHandshake("ok");
                StartSrtp(keys);
                if (ReferenceEquals(dtls, _dtls)) DataChannels?.Association.Connect();
                break;
            case DtlsState.Failed:
                _worker.Metrics.DtlsHandshake("failed");
                _listener.OnTransportFailed(this, dtls.FailureReason ?? "DTLS failed");
                // One bad record (a forged one, or a client's broken first attempt) must not kill the transport for
                // good: a fresh DTLS endpoint takes the client's next ClientHello, and SRTP already keyed carries on.
                if (!_disposed) ResetDtls(dtls);
                break;
        }
    }

    private DtlsTransport NewDtls()
    {
        var dtls = new DtlsTransport(_dtlsContext, this, _remoteFingerprint, _worker.Time);
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
        SetSelected(null);
        if (DataChannels is { } data)
        {
            data.Association.Abort("transport closed");
            _dataCounters.Fold(data, _worker.Metrics.DataChannels);
        }
        foreach (var path in _paths) Drop(path);
        _worker.Table.Remove(this);
        _dtls.Dispose();
        _inbound?.Dispose();
        _outbound?.Dispose();
        _worker.Metrics.TransportClosed();
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
