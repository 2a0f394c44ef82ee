using System.Net;
using System.Net.Sockets;
using System.Text;
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

    private static byte[] Check(string serverUfrag, string password)
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
