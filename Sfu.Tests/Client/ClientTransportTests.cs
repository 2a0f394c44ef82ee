using System.Collections.Concurrent;
using System.Net;
using Sfu.Client.Media;
using Sfu.Client.Transport;
using Sfu.Media.Dtls;
using Sfu.Media.Rtcp;
using Sfu.Media.Rtp;
using Sfu.Media.Srtp;
using Sfu.Media.Stun;

namespace Sfu.Tests.Client;

/// <summary>The client transport against an in-test ICE-lite + DTLS server over loopback UDP.</summary>
public sealed class ClientTransportTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [TestCase(ClientDtls.DefaultSrtpProfiles, SrtpProfile.AeadAes128Gcm)]
    [TestCase(ClientDtls.AesCmOnly, SrtpProfile.Aes128CmHmacSha1_80)]
    public async Task Connects_ThenSrtpAndSrtcpFlowBothWays(string offered, SrtpProfile expected)
    {
        using var server = new IceLiteTestServer();
        using var client = new ClientTransport(new ClientTransportOptions { SrtpProfiles = offered });
        var received = new RecordingListener();
        client.Listener = received;

        server.ExpectClient(client.LocalFingerprint);
        client.Start(server.Remote);
        await client.WaitConnectedAsync(Wait);
        await Until(() => server.IsConnected);
        Assert.That(client.SrtpProfile, Is.EqualTo(expected));

        Assert.That(client.SendRtp(Rtp(ssrc: 1111, sequence: 7, payload: [1, 2, 3])), Is.True);
        Assert.That(client.SendRtcp(Pli(sender: 1, media: 2222)), Is.True);
        await Until(() => server.Rtp.Count == 1 && server.Rtcp.Count == 1);
        server.Rtp.TryPeek(out var atServer);
        Assert.That(atServer, Is.EqualTo(Rtp(ssrc: 1111, sequence: 7, payload: [1, 2, 3])));

        server.SendRtp(Rtp(ssrc: 3333, sequence: 9, payload: [4, 5]));
        server.SendRtcp(Pli(sender: 5, media: 1111));
        await Until(() => received.Rtp.Count == 1 && received.Rtcp.Count == 1);
        received.Rtp.TryPeek(out var atClient);
        received.Rtcp.TryPeek(out var rtcpAtClient);
        Assert.Multiple(() =>
        {
            Assert.That(atClient, Is.EqualTo(Rtp(ssrc: 3333, sequence: 9, payload: [4, 5])));
            Assert.That(rtcpAtClient, Is.EqualTo(Pli(sender: 5, media: 1111)));
            Assert.That(client.SrtpFailures, Is.Zero);
        });
    }

    [Test]
    public async Task Checks_CarryUsernamePriorityControllingAndUseCandidate_AsConfigured()
    {
        using var server = new IceLiteTestServer();
        using var client = new ClientTransport();
        server.ExpectClient(client.LocalFingerprint);
        client.Start(server.Remote);
        await Until(() => client.IsIceConnected);
        client.UseCandidate = false;
        client.SendCheck();
        // Checks go out every 50 ms until the first answer comes back: on a slow machine several nominating ones may
        // arrive before the one sent now, so wait for that one rather than for a count.
        await Until(() => server.Checks.Any(c => !c.UseCandidate));

        var checks = server.Checks.ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(checks[0].Username, Is.EqualTo($"{server.Ice.Ufrag}:{client.LocalIce.Ufrag}"));
            Assert.That(checks[0].UseCandidate, Is.True);
            Assert.That(checks[0].Controlling, Is.True);
            Assert.That(checks[0].FingerprintOk, Is.True);
            Assert.That(checks[^1].UseCandidate, Is.False);
            Assert.That(checks[0].From, Is.EqualTo(client.LocalEndPoint));
            Assert.That(client.MappedEndPoint, Is.EqualTo(client.LocalEndPoint), "XOR-MAPPED-ADDRESS read back");
        });
    }

    [Test]
    public async Task ServerChecks_SignedWithOurPassword_AreAnswered_WithTheirSourceAddress_OthersAreNot()
    {
        // A server that runs its own checks (Janus's libnice) takes the pair only once they are answered.
        using var server = new IceLiteTestServer();
        using var client = new ClientTransport();
        server.ExpectClient(client.LocalFingerprint);
        client.Start(server.Remote);
        using var checker = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var username = System.Text.Encoding.ASCII.GetBytes($"{client.LocalIce.Ufrag}:{server.Ice.Ufrag}");
        var forged = Check(username, IceCredentials.Generate().PasswordBytes.ToArray(), out _);
        var genuine = Check(username, client.LocalIce.PasswordBytes.ToArray(), out var transaction);

        // The forged one first: the first answer to come back must be the genuine one's.
        await checker.SendAsync(forged, client.LocalEndPoint);
        await checker.SendAsync(genuine, client.LocalEndPoint);

        using var wait = new CancellationTokenSource(Wait);
        var response = (await checker.ReceiveAsync(wait.Token)).Buffer;
        Assert.That(StunMessageReader.TryParse(response, out var message), Is.True);
        var read = (message.Class, Transaction: message.TransactionId.ToArray(), Signed: message.VerifyMessageIntegrity(client.LocalIce.PasswordBytes),
            Mapped: message.TryGetXorMappedAddress(out var mapped) ? mapped : null);
        Assert.Multiple(() =>
        {
            Assert.That(read.Class, Is.EqualTo(StunClass.SuccessResponse));
            Assert.That(read.Transaction, Is.EqualTo(transaction));
            Assert.That(read.Signed, Is.True);
            Assert.That(read.Mapped, Is.EqualTo(checker.Client.LocalEndPoint));
            Assert.That(client.RequestsAnswered, Is.EqualTo(1));
        });

        static byte[] Check(byte[] username, byte[] key, out byte[] transaction)
        {
            var request = new byte[IceStunMessages.MaxMessageLength];
            transaction = new byte[StunConstants.TransactionIdLength];
            StunMessageWriter.NewTransactionId(transaction);
            return request[..IceStunMessages.WriteBindingRequest(request, transaction, username, 1, 42, useCandidate: false, key)];
        }
    }

    [Test]
    public async Task ResponsesSignedWithTheWrongPassword_AreIgnored_AndDtlsNeverStarts()
    {
        using var server = new IceLiteTestServer { WrongPassword = "this-is-not-the-password" };
        using var client = new ClientTransport();
        server.ExpectClient(client.LocalFingerprint);
        client.Start(server.Remote);
        await Until(() => client.BadResponses >= 3);
        Assert.Multiple(() =>
        {
            Assert.That(client.IsIceConnected, Is.False);
            Assert.That(client.CheckResponses, Is.Zero);
            Assert.That(client.DtlsState, Is.EqualTo(DtlsState.New));
        });
    }

    [Test]
    public async Task ConsentChecks_KeepGoingAtTheirPace_UntilStopped()
    {
        using var server = new IceLiteTestServer();
        using var client = new ClientTransport(new ClientTransportOptions { ConsentInterval = TimeSpan.FromMilliseconds(100) });
        server.ExpectClient(client.LocalFingerprint);
        client.Start(server.Remote);
        await client.WaitConnectedAsync(Wait);
        var before = server.Checks.Count;
        await Task.Delay(600);
        var during = server.Checks.Count - before;
        Assert.That(during, Is.InRange(3, 9), "about one check per 100 ms");

        client.ChecksEnabled = false;
        await Task.Delay(150);
        var stopped = server.Checks.Count;
        await Task.Delay(400);
        Assert.That(server.Checks.Count, Is.EqualTo(stopped));
    }

    [Test]
    public async Task Rebind_MovesToANewSocket_TheServerFollowsTheCheck_AndMediaArrivesThere()
    {
        using var server = new IceLiteTestServer();
        using var client = new ClientTransport();
        var received = new RecordingListener();
        client.Listener = received;
        server.ExpectClient(client.LocalFingerprint);
        client.Start(server.Remote);
        await client.WaitConnectedAsync(Wait);
        await Until(() => server.IsConnected);
        var before = client.LocalEndPoint;

        var after = await client.RebindAsync();
        await Until(() => Equals(server.Selected, after));
        await Until(() => Equals(client.MappedEndPoint, after));
        Assert.That(after.Port, Is.Not.EqualTo(before.Port));

        server.SendRtp(Rtp(ssrc: 42, sequence: 1, payload: [9]));
        await Until(() => received.Rtp.Count == 1);
        Assert.That(client.SendRtp(Rtp(ssrc: 43, sequence: 1, payload: [8])), Is.True);
        await Until(() => server.Rtp.Count == 1);
    }

    [Test]
    public async Task RawDatagrams_GoOutFromTheTransportSocket()
    {
        using var server = new IceLiteTestServer();
        using var client = new ClientTransport();
        server.ExpectClient(client.LocalFingerprint);
        client.Start(server.Remote);
        await Until(() => client.IsIceConnected);
        Assert.That(client.SendRaw(new byte[] { 0xFF, 1, 2 }), Is.True);
        await Until(() => server.Other.Count == 1);
        server.Other.TryPeek(out var raw);
        Assert.That(raw, Is.EqualTo(new byte[] { 0xFF, 1, 2 }));
    }

    private static byte[] Rtp(uint ssrc, ushort sequence, byte[] payload)
    {
        var buffer = new byte[64];
        var header = new RtpHeaderWriter(buffer, 96, sequence, 1000, ssrc);
        header.AddExtension(4, "0"u8);
        var at = header.Finish();
        payload.CopyTo(buffer, at);
        return buffer[..(at + payload.Length)];
    }

    private static byte[] Pli(uint sender, uint media)
    {
        var buffer = new byte[RtcpPli.Length];
        Assert.That(new RtcpPli(sender, media).TryWrite(buffer, out _), Is.True);
        return buffer;
    }

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("condition not met in time");
            await Task.Delay(10);
        }
    }

    private sealed class RecordingListener : IClientMediaListener
    {
        public ConcurrentQueue<byte[]> Rtp { get; } = new();

        public ConcurrentQueue<byte[]> Rtcp { get; } = new();

        public void OnRtp(ClientTransport transport, Span<byte> packet)
        {
            Assert.That(RtpPacket.TryParse(packet, out _), Is.True);
            Rtp.Enqueue(packet.ToArray());
        }

        public void OnRtcp(ClientTransport transport, Span<byte> compound) => Rtcp.Enqueue(compound.ToArray());
    }
}
