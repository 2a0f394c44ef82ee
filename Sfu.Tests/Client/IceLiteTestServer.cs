using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Sfu.Client.Transport;
using Sfu.Media.Dtls;
using Sfu.Media.Srtp;
using Sfu.Media.Stun;

namespace Sfu.Tests.Client;

/// <summary>
/// The smallest server a <see cref="ClientTransport"/> can talk to, built from Sfu.Media parts over a loopback
/// UDP socket: answers authenticated Binding requests (ICE-lite), runs the DTLS server role towards the last
/// address that passed a check, and decrypts and records SRTP/SRTCP. Everything it sees is kept for asserts.
/// </summary>
internal sealed class IceLiteTestServer : IDtlsPacketSink, IDisposable
{
    private static readonly Lazy<DtlsContext> ServerContext = new(() => DtlsContext.Create(DtlsCertificate.Generate(), DtlsRole.Server));

    private readonly UdpClient _socket = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly DtlsTransport _dtls;
    private readonly CancellationTokenSource _stopping = new();
    private SrtpContext? _inbound;
    private SrtpContext? _outbound;

    public IceLiteTestServer()
    {
        _dtls = new DtlsTransport(ServerContext.Value, this);
        _dtls.StateChanged += (dtls, state) =>
        {
            if (state == DtlsState.Connected && dtls.SrtpKeys is { } keys)
            {
                _inbound = new SrtpContext(keys.Remote);
                _outbound = new SrtpContext(keys.Local);
            }
        };
        _ = ReceiveLoopAsync();
    }

    public IceCredentials Ice { get; } = IceCredentials.Generate();

    /// <summary>When set, responses are signed with this password instead of the real one (a forged server).</summary>
    public string? WrongPassword { get; set; }

    public IPEndPoint EndPoint => (IPEndPoint)_socket.Client.LocalEndPoint!;

    public RemoteTransport Remote => new(Ice, ServerContext.Value.Certificate.Fingerprint, EndPoint);

    /// <summary>Every check that passed MESSAGE-INTEGRITY: source, USERNAME, USE-CANDIDATE, ICE-CONTROLLING present.</summary>
    public ConcurrentQueue<(IPEndPoint From, string Username, bool UseCandidate, bool Controlling, bool FingerprintOk)> Checks { get; } = new();

    public ConcurrentQueue<byte[]> Rtp { get; } = new();

    public ConcurrentQueue<byte[]> Rtcp { get; } = new();

    /// <summary>Datagrams that were neither STUN, DTLS nor RTP/RTCP.</summary>
    public ConcurrentQueue<byte[]> Other { get; } = new();

    public IPEndPoint? Selected { get; private set; }

    public DtlsState DtlsState => _dtls.State;

    public bool IsConnected => _outbound is not null;

    /// <summary>Protects and sends an RTP packet to the selected address.</summary>
    public void SendRtp(byte[] rtp)
    {
        var buffer = new byte[rtp.Length + 64];
        rtp.CopyTo(buffer, 0);
        Assert.That(_outbound!.Protect(buffer, rtp.Length, out var length), Is.EqualTo(SrtpStatus.Ok));
        _socket.Send(buffer, length, Selected);
    }

    public void SendRtcp(byte[] rtcp)
    {
        var buffer = new byte[rtcp.Length + 64];
        rtcp.CopyTo(buffer, 0);
        Assert.That(_outbound!.ProtectRtcp(buffer, rtcp.Length, out var length), Is.EqualTo(SrtpStatus.Ok));
        _socket.Send(buffer, length, Selected);
    }

    public void SendDtls(ReadOnlySpan<byte> datagram)
    {
        if (Selected is { } to && !_stopping.IsCancellationRequested)
        {
            _socket.Send(datagram, to);
        }
    }

    /// <summary>The client's certificate fingerprint, as its SDP would carry it; DTLS connects only once it matches.</summary>
    public void ExpectClient(DtlsFingerprint fingerprint) => _dtls.SetRemoteFingerprint(fingerprint);

    public void Dispose()
    {
        _stopping.Cancel();
        _dtls.Dispose();
        _socket.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var timeouts = Task.Run(async () =>
        {
            while (!_stopping.IsCancellationRequested)
            {
                await Task.Delay(20);
                if (_dtls.NextTimeout is { } due && due <= DateTimeOffset.UtcNow) _dtls.HandleTimeout();
            }
        });
        while (!_stopping.IsCancellationRequested)
        {
            UdpReceiveResult received;
            try
            {
                received = await _socket.ReceiveAsync(_stopping.Token);
            }
            catch (Exception)
            {
                return;
            }

            var datagram = received.Buffer;
            if (datagram.Length == 0) continue;
            if (datagram[0] <= 3) OnStun(datagram, received.RemoteEndPoint);
            else if (datagram[0] is >= 20 and <= 63 && received.RemoteEndPoint.Equals(Selected)) _dtls.Feed(datagram);
            else if (datagram[0] is >= 128 and <= 191 && _inbound is { } inbound) OnSrtp(inbound, datagram);
            else Other.Enqueue(datagram);
        }

        await timeouts;
    }

    private void OnStun(byte[] datagram, IPEndPoint from)
    {
        if (!StunMessageReader.TryParse(datagram, out var request) || request.Class != StunClass.Request) return;
        if (!request.VerifyMessageIntegrity(Ice.PasswordBytes) || !request.TryGetUsername(out var username)) return;
        var check = (from, System.Text.Encoding.ASCII.GetString(username), request.UseCandidate, request.TryGetIceControlling(out _), request.VerifyFingerprint());
        Checks.Enqueue(check);
        if (request.UseCandidate || Selected is null) Selected = from;

        var response = new byte[IceStunMessages.MaxMessageLength];
        var key = WrongPassword is null ? Ice.PasswordBytes : System.Text.Encoding.ASCII.GetBytes(WrongPassword);
        var length = IceStunMessages.WriteBindingSuccess(response, request.TransactionId, from, key);
        _socket.Send(response, length, from);
    }

    private void OnSrtp(SrtpContext inbound, byte[] datagram)
    {
        var rtcp = datagram[1] is >= 192 and <= 223;
        var status = rtcp ? inbound.UnprotectRtcp(datagram, datagram.Length, out var length) : inbound.Unprotect(datagram, datagram.Length, out length);
        if (status != SrtpStatus.Ok) return;
        (rtcp ? Rtcp : Rtp).Enqueue(datagram[..length]);
    }
}
