using System.Net;
using System.Net.Sockets;
using System.Text;
using Sfu.Client.Transport;
using Sfu.Media.Dtls;
using Sfu.Media.Sdp;
using Sfu.Media.Stun;
using Sfu.Tests.Infrastructure;
using Sfu.Tests.Media.Sdp;

namespace Sfu.Tests.Media.Integration;

/// <summary>
/// Bad datagrams of every kind thrown at a live transport on the real server's UDP port: each is dropped and
/// counted by reason, nothing crashes, and the transport still answers a correct ICE check afterwards.
/// </summary>
public sealed class MalformedDatagramTests : ServerTest
{
    [Test]
    public async Task GarbageAndForgedDatagrams_AreDroppedAndCounted_AndTheTransportStillAnswersChecks()
    {
        var (publisher, _) = await Server.JoinAsync("r");
        await using var _ = publisher;
        var response = await publisher.RequestAsync(new { type = "publish", sdp = SdpFixtures.Load(SdpFixtures.ChromeSendOnly) });
        Assert.That(response.Ok(), Is.True, response.ToString());
        var answer = SdpParser.Parse(response.Str("sdp"));
        var media = answer.Media[0];
        var ufrag = answer.IceUfragFor(media)!;
        var password = answer.IcePwdFor(media)!;
        var candidate = media.Candidates[0];
        var server = new IPEndPoint(IPAddress.Parse(candidate.Address), candidate.Port);
        var before = await ReadDropsAsync();

        using var attacker = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var junk = new byte[random.Next(1, 300)];
            random.NextBytes(junk);
            await attacker.SendAsync(junk, server);
        }
        await attacker.SendAsync(Check(ufrag, "wrong-password-wrong-password"), server);      // forged integrity
        await attacker.SendAsync(Check("nobody", password), server);                           // unknown ufrag
        await attacker.SendAsync(Check(ufrag, password)[..30], server);                        // truncated STUN
        await attacker.SendAsync(Rtp(), server);                                               // RTP from an unverified address
        await attacker.SendAsync(new byte[] { 22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, server); // DTLS from an unverified address

        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await client.SendAsync(Check(ufrag, password), server);
        var reply = await client.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.That(StunMessageReader.TryParse(reply.Buffer, out var message), Is.True);
        var isSuccess = message.Class == StunClass.SuccessResponse;
        var authentic = message.VerifyMessageIntegrity(Encoding.ASCII.GetBytes(password));
        var mapped = message.TryGetXorMappedAddress(out IPEndPoint? endPoint) ? endPoint : null;
        Assert.Multiple(() =>
        {
            Assert.That(isSuccess, Is.True);
            Assert.That(authentic, Is.True);
            Assert.That(mapped, Is.EqualTo(client.Client.LocalEndPoint));
        });

        // Now the client's address is verified: SRTP that fails authentication is dropped and counted too.
        await client.SendAsync(Rtp(), server);
        await client.SendAsync(Check(ufrag, password), server);
        await client.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));

        var after = await ReadDropsAsync();
        Assert.Multiple(() =>
        {
            Assert.That(after["auth-failure"] - before["auth-failure"], Is.GreaterThanOrEqualTo(1), "forged MESSAGE-INTEGRITY");
            Assert.That(after["unknown-source"] - before["unknown-source"], Is.GreaterThanOrEqualTo(3), "unknown ufrag, RTP and DTLS from an unverified address");
            Assert.That(after["malformed"] - before["malformed"], Is.GreaterThanOrEqualTo(1), "junk");
            Assert.That(after["not-connected"] + after["srtp-failure"] - before["not-connected"] - before["srtp-failure"], Is.GreaterThanOrEqualTo(1),
                "RTP on a transport whose DTLS never ran");
        });
    }

    [Test]
    public async Task BadDtlsRecordFromTheVerifiedAddress_DoesNotKillTheTransport_TheClientsHandshakeStillSucceeds()
    {
        var (publisher, _) = await Server.JoinAsync("r");
        await using var _ = publisher;
        var clientContext = ClientDtls.Context(ClientDtls.DefaultSrtpProfiles);
        var offer = SdpFixtures.Load(SdpFixtures.ChromeSendOnly);
        offer = System.Text.RegularExpressions.Regex.Replace(offer, "a=fingerprint:[^\r\n]+", $"a=fingerprint:{clientContext.Certificate.Fingerprint}");
        var response = await publisher.RequestAsync(new { type = "publish", sdp = offer });
        Assert.That(response.Ok(), Is.True, response.ToString());
        var answer = SdpParser.Parse(response.Str("sdp"));
        var media = answer.Media[0];
        var server = new IPEndPoint(IPAddress.Parse(media.Candidates[0].Address), media.Candidates[0].Port);

        using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await socket.SendAsync(Check(answer.IceUfragFor(media)!, answer.IcePwdFor(media)!), server);
        await socket.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));

        // A handshake record of garbage from the verified address: the server's DTLS endpoint fails on it.
        var garbage = new byte[13 + 40];
        new Random(3).NextBytes(garbage);
        new byte[] { 22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 40 }.CopyTo(garbage, 0);
        await socket.SendAsync(garbage, server);
        await Eventually.MetricReachesAsync(Server, "sfu_media_dtls_handshakes_total{result=\"failed\"}", 1);
        // The failed endpoint's fatal alert came back; a client that had not started yet would ignore it.
        await socket.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));

        // Then the real client's handshake, over the same address.
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var dtls = new DtlsTransport(clientContext, new UdpSink(socket, server), answer.FingerprintFor(media));
        dtls.StateChanged += (_, state) => { if (state == DtlsState.Connected) connected.TrySetResult(); };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var pump = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var datagram = await socket.ReceiveAsync(stop.Token);
                dtls.Feed(datagram.Buffer);
            }
        });
        dtls.Start();
        while (!connected.Task.IsCompleted && !stop.IsCancellationRequested)
        {
            await Task.WhenAny(connected.Task, Task.Delay(100));
            if (dtls.NextTimeout <= DateTimeOffset.UtcNow) dtls.HandleTimeout();
        }
        await stop.CancelAsync();
        Assert.Multiple(async () =>
        {
            Assert.That(connected.Task.IsCompleted, Is.True, $"the client's handshake completed; client DTLS is {dtls.State}: {dtls.FailureReason}");
            Assert.That((await MetricsSnapshot.ScrapeAsync(Server))["sfu_media_dtls_handshakes_total{result=\"ok\"}"], Is.EqualTo(1));
        });
    }

    [Test]
    public async Task AddressReusedByAnotherClient_MovesToThatClientsTransport_OnItsFirstAuthenticatedCheck()
    {
        var first = await PublishAsync("first");
        var second = await PublishAsync("second");
        // A NAT hands the same public port first to one client, then to another.
        using var natPort = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var toFirst = await CheckAndReadAsync(natPort, first);
        var toSecond = await CheckAndReadAsync(natPort, second);
        Assert.Multiple(() =>
        {
            Assert.That(toFirst, Is.True, "the first client's check is answered");
            Assert.That(toSecond, Is.True, "the second client's check from the same address is answered by its own transport");
        });
    }

    private async Task<(IPEndPoint Server, string Ufrag, string Password)> PublishAsync(string name)
    {
        var (client, _) = await Server.JoinAsync("r", name);
        var response = await client.RequestAsync(new { type = "publish", sdp = SdpFixtures.Load(SdpFixtures.ChromeSendOnly) });
        Assert.That(response.Ok(), Is.True, response.ToString());
        var answer = SdpParser.Parse(response.Str("sdp"));
        var media = answer.Media[0];
        return (new IPEndPoint(IPAddress.Parse(media.Candidates[0].Address), media.Candidates[0].Port), answer.IceUfragFor(media)!, answer.IcePwdFor(media)!);
    }

    /// <summary>Sends an authenticated check; true when a success response signed with the transport's password comes back.</summary>
    private static async Task<bool> CheckAndReadAsync(UdpClient socket, (IPEndPoint Server, string Ufrag, string Password) transport)
    {
        await socket.SendAsync(Check(transport.Ufrag, transport.Password), transport.Server);
        try
        {
            var reply = await socket.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(2));
            return StunMessageReader.TryParse(reply.Buffer, out var message) && message.Class == StunClass.SuccessResponse
                && message.VerifyMessageIntegrity(Encoding.ASCII.GetBytes(transport.Password));
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    internal sealed class UdpSink(UdpClient socket, IPEndPoint server) : IDtlsPacketSink
    {
        public void SendDtls(ReadOnlySpan<byte> datagram) => socket.Send(datagram, server);
    }

    internal static byte[] Check(string serverUfrag, string password)
    {
        var buffer = new byte[IceStunMessages.MaxMessageLength];
        Span<byte> transaction = stackalloc byte[12];
        StunMessageWriter.NewTransactionId(transaction);
        var username = Encoding.ASCII.GetBytes($"{serverUfrag}:client");
        var length = IceStunMessages.WriteBindingRequest(buffer, transaction, username, 1_000_000, 42, true, Encoding.ASCII.GetBytes(password));
        return buffer[..length];
    }

    private static byte[] Rtp()
    {
        var packet = new byte[100];
        packet[0] = 0x80;
        packet[1] = 96;
        return packet;
    }

    private async Task<Dictionary<string, double>> ReadDropsAsync()
    {
        var metrics = await MetricsSnapshot.ScrapeAsync(Server);
        return new[] { "auth-failure", "unknown-source", "malformed", "not-connected", "srtp-failure" }
            .ToDictionary(reason => reason, reason => metrics[$"sfu_media_dropped_total{{reason=\"{reason}\"}}"]);
    }
}
