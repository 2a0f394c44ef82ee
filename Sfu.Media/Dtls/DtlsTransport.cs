using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Sfu.Media.Interop;
using Sfu.Media.Srtp;

namespace Sfu.Media.Dtls;

/// <summary>
/// The DTLS-SRTP handshake of one WebRTC transport, over OpenSSL memory BIOs.
/// </summary>
/// <remarks>
/// <para>Driving it: call <see cref="Start"/> once (a client sends its ClientHello; a server may
/// skip it, the first <see cref="Feed"/> starts it), pass every received DTLS datagram to
/// <see cref="Feed"/>, and have the owner's heartbeat call <see cref="HandleTimeout"/> once
/// <see cref="NextTimeout"/> has passed. Outgoing datagrams go to the <see cref="IDtlsPacketSink"/>.
/// When <see cref="State"/> becomes <see cref="DtlsState.Connected"/>, <see cref="SrtpProfile"/> and
/// <see cref="SrtpKeys"/> hold the negotiated profile and keys; <see cref="StateChanged"/> reports every transition.</para>
/// <para>Thread safety: any thread may call any member; one lock serialises access to the SSL
/// object, which OpenSSL requires. The sink and <see cref="StateChanged"/> run after the lock is
/// released, on the calling thread.</para>
/// <para>Bad input never throws: malformed datagrams are dropped by OpenSSL's record layer, and a
/// handshake that fails (alert, bad message, fingerprint mismatch, retransmission limit) moves to
/// <see cref="DtlsState.Failed"/> with <see cref="FailureReason"/>.</para>
/// </remarks>
public sealed class DtlsTransport : IDisposable
{
    /// <summary>
    /// Upper bound for every datagram handed to the sink: fits a 1280-byte IPv6 minimum MTU with
    /// room for IP/UDP headers and a TURN channel wrapper.
    /// </summary>
    public const int MaxDatagramSize = 1200;

    // A DTLS record carries at most 2^14 bytes of plaintext.
    private const int MaxRecordPlaintext = 16384;

    private static readonly byte[] ExporterLabel = Encoding.ASCII.GetBytes(SrtpKeyingMaterial.ExporterLabel);

    private readonly Lock _lock = new();
    private readonly SafeSslHandle _ssl;
    private readonly IDtlsPacketSink _sink;
    private readonly TimeProvider _timeProvider;
    private byte[]? _expectedFingerprint;
    private byte[]? _peerCertificateHash;
    private SrtpKeyPair? _keys;
    private byte[]? _exportedKeyingMaterial;
    private bool _handshakeDone;
    private bool _disposed;
    private DtlsState _state;
    private DateTimeOffset? _nextTimeout;

    /// <param name="context">Shared per-role context; its role is this transport's role.</param>
    /// <param name="sink">Receives outgoing datagrams.</param>
    /// <param name="expectedRemoteFingerprint">
    /// The peer's SDP <c>a=fingerprint</c> (sha-256), or null to supply it later with
    /// <see cref="SetRemoteFingerprint"/>.
    /// </param>
    /// <param name="timeProvider">Clock used to express <see cref="NextTimeout"/>.</param>
    /// <exception cref="FormatException">The fingerprint is not sha-256 with 32 hex bytes.</exception>
    public DtlsTransport(
        DtlsContext context,
        IDtlsPacketSink sink,
        DtlsFingerprint? expectedRemoteFingerprint = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sink);

        if (expectedRemoteFingerprint is not null)
        {
            _expectedFingerprint = expectedRemoteFingerprint.GetSha256Digest();
        }

        Role = context.Role;
        _sink = sink;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _ssl = SafeSslHandle.Create(context.Handle);
        if (Role == DtlsRole.Server)
        {
            Ssl.SSL_set_accept_state(_ssl);
        }
        else
        {
            Ssl.SSL_set_connect_state(_ssl);
        }

        // After the accept/connect state so nothing resets it before the first flight.
        if (Ssl.SSL_set_mtu(_ssl, MaxDatagramSize) <= 0)
        {
            _ssl.Dispose();
            throw Crypto.CreateException("SSL_set_mtu");
        }
    }

    /// <summary>Raised after every state change, outside the lock, on the thread that caused it.</summary>
    public event Action<DtlsTransport, DtlsState>? StateChanged;

    public DtlsRole Role { get; }

    public DtlsState State
    {
        get
        {
            lock (_lock)
            {
                return _state;
            }
        }
    }

    /// <summary>Why the transport failed or closed; null while it has not.</summary>
    public string? FailureReason { get; private set; }

    /// <summary>
    /// The negotiated SRTP protection profile; null until <see cref="DtlsState.Connected"/>. A
    /// profile <see cref="Sfu.Media.Srtp"/> does not implement fails the handshake instead.
    /// </summary>
    public SrtpProfile? SrtpProfile => SrtpKeys?.Local.Profile;

    /// <summary>
    /// SRTP master keys: <see cref="SrtpKeyPair.Local"/> protects what this end sends,
    /// <see cref="SrtpKeyPair.Remote"/> unprotects what it receives. Null until <see cref="DtlsState.Connected"/>.
    /// </summary>
    public SrtpKeyPair? SrtpKeys
    {
        get
        {
            lock (_lock)
            {
                return _state == DtlsState.Connected ? _keys : null;
            }
        }
    }

    /// <summary>
    /// The raw exporter output both ends derived; empty until <see cref="DtlsState.Connected"/>.
    /// Only tests read it, to check both ends agree; media uses <see cref="SrtpKeys"/>.
    /// </summary>
    internal ReadOnlyMemory<byte> ExportedKeyingMaterial
    {
        get
        {
            lock (_lock)
            {
                return _state == DtlsState.Connected ? _exportedKeyingMaterial : default;
            }
        }
    }

    /// <summary>The fingerprint of the certificate the peer presented, once the handshake got that far.</summary>
    public DtlsFingerprint? RemoteCertificateFingerprint { get; private set; }

    /// <summary>Negotiated protocol, e.g. "DTLSv1.2", once the handshake finished.</summary>
    public string? ProtocolVersion { get; private set; }

    /// <summary>
    /// When <see cref="HandleTimeout"/> should next be called, or null when no retransmission
    /// timer runs. OpenSSL keeps its own clock: calling early is a harmless no-op.
    /// </summary>
    public DateTimeOffset? NextTimeout
    {
        get
        {
            lock (_lock)
            {
                return _nextTimeout;
            }
        }
    }

    /// <summary>Begins the handshake: a client sends its ClientHello, a server starts waiting for one.</summary>
    public void Start()
    {
        var outcome = new Outcome();
        lock (_lock)
        {
            if (_disposed || _state != DtlsState.New)
            {
                return;
            }

            SetState(DtlsState.Connecting, ref outcome);
            Advance(ref outcome);
            Collect(ref outcome);
        }

        Deliver(ref outcome);
    }

    /// <summary>
    /// Processes one received DTLS datagram. Anything malformed is dropped or fails only this
    /// transport; it never throws for the datagram's content.
    /// </summary>
    public unsafe void Feed(ReadOnlySpan<byte> datagram)
    {
        var outcome = new Outcome();
        lock (_lock)
        {
            if (_disposed || _state is DtlsState.Failed or DtlsState.Closed || datagram.IsEmpty)
            {
                return;
            }

            if (_state == DtlsState.New)
            {
                SetState(DtlsState.Connecting, ref outcome);
            }

            // One record at a time: see DtlsDatagrams for why OpenSSL needs that.
            int offset = 0;
            while (offset < datagram.Length && _state is DtlsState.Connecting or DtlsState.Connected)
            {
                ReadOnlySpan<byte> record = DtlsDatagrams.NextRecord(datagram, ref offset);
                if (!DtlsDatagrams.IsAcceptable(record))
                {
                    continue;
                }

                fixed (byte* data = record)
                {
                    Crypto.BIO_write(_ssl.InputBio, data, record.Length);
                }

                Advance(ref outcome);

                // OpenSSL reads its input whole; anything left behind (it never should be) must
                // not be glued to the front of the next record.
                Crypto.BIO_ctrl(_ssl.InputBio, Crypto.BIO_CTRL_RESET, 0, 0);
            }

            Collect(ref outcome);
        }

        Deliver(ref outcome);
    }

    /// <summary>Retransmits the last flight if OpenSSL's timer expired; call when <see cref="NextTimeout"/> passed.</summary>
    public void HandleTimeout()
    {
        var outcome = new Outcome();
        lock (_lock)
        {
            if (_disposed || _state is not (DtlsState.Connecting or DtlsState.Connected))
            {
                return;
            }

            Crypto.ERR_clear_error();
            if (Ssl.DTLSv1_handle_timeout(_ssl) < 0)
            {
                // OpenSSL gives up after a fixed number of retransmissions of the same flight.
                Fail(ErrorText("DTLS retransmission limit reached"), ref outcome);
            }

            Collect(ref outcome);
        }

        Deliver(ref outcome);
    }

    /// <summary>Receives decrypted application data; without one it is discarded (a transport that carries only media).</summary>
    public IDtlsApplicationDataSink? ApplicationDataSink { get; set; }

    /// <summary>
    /// Encrypts one record of application data (an SCTP packet) and sends it. False, with nothing sent, when the
    /// transport is not connected or the record does not fit <see cref="MaxDatagramSize"/>.
    /// </summary>
    public unsafe bool SendApplicationData(ReadOnlySpan<byte> data)
    {
        var outcome = new Outcome();
        bool sent;
        lock (_lock)
        {
            if (_disposed || _state != DtlsState.Connected || data.IsEmpty)
            {
                return false;
            }

            Crypto.ERR_clear_error();
            fixed (byte* bytes = data)
            {
                sent = Ssl.SSL_write(_ssl, bytes, data.Length) == data.Length;
            }

            Crypto.ERR_clear_error();
            Collect(ref outcome);
        }

        Deliver(ref outcome);
        return sent;
    }

    /// <summary>
    /// Sets the fingerprint the peer's certificate must match, from its SDP. May come before,
    /// during or after the handshake; a finished handshake is judged at once.
    /// </summary>
    /// <exception cref="FormatException">Not "sha-256" followed by 32 colon-separated hex bytes.</exception>
    public void SetRemoteFingerprint(DtlsFingerprint fingerprint)
    {
        ArgumentNullException.ThrowIfNull(fingerprint);
        byte[] expected = fingerprint.GetSha256Digest();
        var outcome = new Outcome();
        lock (_lock)
        {
            if (_disposed || _state is DtlsState.Failed or DtlsState.Closed)
            {
                return;
            }

            _expectedFingerprint = expected;
            if (_handshakeDone && _state == DtlsState.Connecting)
            {
                JudgeFingerprint(ref outcome);
            }

            Collect(ref outcome);
        }

        Deliver(ref outcome);
    }

    /// <summary>Sends close_notify if the handshake had finished, then releases the SSL object.</summary>
    public void Dispose()
    {
        var outcome = new Outcome();
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (_handshakeDone && _state is DtlsState.Connected or DtlsState.Connecting)
            {
                Crypto.ERR_clear_error();
                Ssl.SSL_shutdown(_ssl);
                Crypto.ERR_clear_error();
            }

            if (_state is not (DtlsState.Failed or DtlsState.Closed))
            {
                FailureReason ??= "closed locally";
                SetState(DtlsState.Closed, ref outcome);
            }

            Collect(ref outcome);
            _disposed = true;
            _nextTimeout = null;
            _ssl.Dispose();
        }

        Deliver(ref outcome);
    }

    // ---- everything below runs under _lock ----

    private void Advance(ref Outcome outcome)
    {
        if (_handshakeDone)
        {
            ReadRecords(ref outcome);
            return;
        }

        // SSL_get_error reads this thread's error queue, which other transports may have left dirty.
        Crypto.ERR_clear_error();
        int result = Ssl.SSL_do_handshake(_ssl);
        if (result == 1)
        {
            _handshakeDone = true;
            OnHandshakeDone(ref outcome);

            // The last flight may have carried more records (an alert, say) after Finished.
            if (_state is DtlsState.Connecting or DtlsState.Connected)
            {
                ReadRecords(ref outcome);
            }

            return;
        }

        int error = Ssl.SSL_get_error(_ssl, result);
        if (error is Ssl.SSL_ERROR_WANT_READ or Ssl.SSL_ERROR_WANT_WRITE)
        {
            return;
        }

        Fail(ErrorText($"handshake failed ({ErrorName(error)})"), ref outcome);
    }

    /// <summary>
    /// Post-handshake records: the peer's retransmitted last flight (OpenSSL answers it by
    /// resending ours), alerts, close_notify, and application data, which is handed to the
    /// <see cref="ApplicationDataSink"/> once the lock is released (discarded without one, or before
    /// the fingerprint has been judged).
    /// </summary>
    private unsafe void ReadRecords(ref Outcome outcome)
    {
        byte* record = stackalloc byte[MaxRecordPlaintext];
        while (true)
        {
            Crypto.ERR_clear_error();
            int read = Ssl.SSL_read(_ssl, record, MaxRecordPlaintext);
            if (read > 0)
            {
                if (_state == DtlsState.Connected && ApplicationDataSink is not null)
                {
                    byte[] copy = ArrayPool<byte>.Shared.Rent(read);
                    new ReadOnlySpan<byte>(record, read).CopyTo(copy);
                    (outcome.ApplicationData ??= new List<(byte[], int)>(1)).Add((copy, read));
                }

                continue;
            }

            int error = Ssl.SSL_get_error(_ssl, read);
            switch (error)
            {
                case Ssl.SSL_ERROR_WANT_READ or Ssl.SSL_ERROR_WANT_WRITE:
                    return;
                case Ssl.SSL_ERROR_ZERO_RETURN:
                    FailureReason = "peer sent close_notify";
                    ForgetKeys();
                    SetState(DtlsState.Closed, ref outcome);
                    return;
                default:
                    Fail(ErrorText($"DTLS read failed ({ErrorName(error)})"), ref outcome);
                    return;
            }
        }
    }

    private unsafe void OnHandshakeDone(ref Outcome outcome)
    {
        ProtocolVersion = Marshal.PtrToStringUTF8(Ssl.SSL_get_version(_ssl));

        using (SafeX509Handle peer = Ssl.SSL_get1_peer_certificate(_ssl))
        {
            // VERIFY_FAIL_IF_NO_PEER_CERT makes this unreachable for a server; a client that
            // reached here without a server certificate must still not get keys.
            if (peer.IsInvalid)
            {
                Fail("peer presented no certificate", ref outcome);
                return;
            }

            byte[] der;
            try
            {
                der = Crypto.EncodeX509(peer.DangerousGetHandle());
            }
            catch (OpenSslException e)
            {
                Fail(e.Message, ref outcome);
                return;
            }

            _peerCertificateHash = SHA256.HashData(der);
            RemoteCertificateFingerprint = DtlsFingerprint.FromSha256(_peerCertificateHash);
        }

        Ssl.SrtpProtectionProfile* selected = Ssl.SSL_get_selected_srtp_profile(_ssl);
        if (selected is null)
        {
            Fail("no DTLS-SRTP profile negotiated (peer sent no use_srtp extension we share)", ref outcome);
            return;
        }

        nuint id = selected->Id;
        var profile = (SrtpProfile)(ushort)id;
        if (id > ushort.MaxValue || !profile.IsSupported())
        {
            Fail($"unsupported DTLS-SRTP profile 0x{id:X4}", ref outcome);
            return;
        }

        byte[] exported = new byte[SrtpKeyingMaterial.Length(profile)];
        Crypto.ERR_clear_error();
        fixed (byte* output = exported)
        fixed (byte* label = ExporterLabel)
        {
            if (Ssl.SSL_export_keying_material(
                    _ssl, output, (nuint)exported.Length, label, (nuint)ExporterLabel.Length, null, 0, 0) != 1)
            {
                Fail(ErrorText("SSL_export_keying_material failed"), ref outcome);
                return;
            }
        }

        _keys = SrtpKeyingMaterial.Split(profile, exported, Role == DtlsRole.Client ? SrtpRole.Client : SrtpRole.Server);
        _exportedKeyingMaterial = exported;
        if (_expectedFingerprint is not null)
        {
            JudgeFingerprint(ref outcome);
        }

        // Otherwise stay Connecting until the SDP fingerprint arrives.
    }

    private void JudgeFingerprint(ref Outcome outcome)
    {
        if (_peerCertificateHash.AsSpan().SequenceEqual(_expectedFingerprint))
        {
            SetState(DtlsState.Connected, ref outcome);
            return;
        }

        Fail(
            $"remote certificate fingerprint {RemoteCertificateFingerprint} does not match the SDP fingerprint " +
            DtlsFingerprint.FromSha256(_expectedFingerprint),
            ref outcome);

        // The peer believes the handshake succeeded; tell it the session is over rather than
        // leaving it to time out.
        Crypto.ERR_clear_error();
        Ssl.SSL_shutdown(_ssl);
        Crypto.ERR_clear_error();
    }

    private void Fail(string reason, ref Outcome outcome)
    {
        FailureReason = reason;
        ForgetKeys();
        SetState(DtlsState.Failed, ref outcome);
    }

    private void ForgetKeys()
    {
        _keys = null;
        _exportedKeyingMaterial = null;
    }

    private void SetState(DtlsState state, ref Outcome outcome)
    {
        if (_state == state)
        {
            return;
        }

        _state = state;
        (outcome.Changes ??= new List<DtlsState>(2)).Add(state);
    }

    /// <summary>
    /// Moves whatever OpenSSL wrote into a pooled buffer to be sent after the lock is released,
    /// and refreshes the retransmission deadline.
    /// </summary>
    private unsafe void Collect(ref Outcome outcome)
    {
        int pending = (int)Crypto.BIO_ctrl_pending(_ssl.OutputBio);
        if (pending > 0)
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(pending);
            fixed (byte* destination = buffer)
            {
                outcome.Length = Math.Max(0, Crypto.BIO_read(_ssl.OutputBio, destination, pending));
            }

            outcome.Buffer = buffer;
        }

        if (_state is DtlsState.Failed or DtlsState.Closed)
        {
            _nextTimeout = null;
        }
        else if (Ssl.DTLSv1_get_timeout(_ssl, out Ssl.TimeVal left) == 1)
        {
            var delay = TimeSpan.FromSeconds(left.Seconds) + TimeSpan.FromMicroseconds(left.Microseconds);
            _nextTimeout = _timeProvider.GetUtcNow() + delay;
        }
        else
        {
            _nextTimeout = null;
        }
    }

    private string ErrorText(string fallback)
    {
        string? detail = Crypto.DrainErrorQueue(out _);
        return detail is null ? fallback : $"{fallback}: {detail}";
    }

    private static string ErrorName(int error) => error switch
    {
        Ssl.SSL_ERROR_SSL => "SSL_ERROR_SSL",
        Ssl.SSL_ERROR_SYSCALL => "SSL_ERROR_SYSCALL",
        _ => $"SSL_get_error {error}",
    };

    // ---- outside the lock ----

    private void Deliver(ref Outcome outcome)
    {
        if (outcome.Buffer is { } buffer)
        {
            try
            {
                DtlsDatagrams.Split(
                    buffer.AsSpan(0, outcome.Length),
                    MaxDatagramSize,
                    _sink,
                    static (sink, datagram) => sink.SendDtls(datagram));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        if (outcome.ApplicationData is { } records)
        {
            foreach ((byte[] record, int length) in records)
            {
                try
                {
                    ApplicationDataSink?.OnDtlsApplicationData(record.AsSpan(0, length));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(record);
                }
            }
        }

        if (outcome.Changes is { } changes)
        {
            foreach (DtlsState state in changes)
            {
                StateChanged?.Invoke(this, state);
            }
        }
    }

    /// <summary>Work produced under the lock and finished outside it.</summary>
    private struct Outcome
    {
        public byte[]? Buffer;
        public int Length;
        public List<DtlsState>? Changes;
        public List<(byte[] Buffer, int Length)>? ApplicationData;
    }
}
