using System.Net.Sockets;
using System.Net;
using System.Text;
using Sfu.Client.Transport;
using Sfu.Media.Sdp;
using Sfu.Media.Stun;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Rebinding;

/// <summary>
/// Nothing but an authenticated check moves a transport; ICE restarts renew credentials without a new DTLS
/// handshake; and media keeps flowing through both.
/// </summary>
[Category("Media")]
[NonParallelizable]
public sealed class SpoofingAndRestartTests
{
    [Test]
    public async Task RtpRtcpDtlsAndWrongCredentialStun_FromAThirdSocket_MoveNothing_AndAreCounted()
    {
        await using var server = await SfuTestServer.StartAsync();
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: false);
        var before = await MetricsSnapshot.ScrapeAsync(server);
        using var attacker = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        attacker.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        byte[] rtp = [0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 1, 2, 3, 4];
        byte[] rtcp = [0x80, 200, 0, 6, 0, 0, 0, 9, .. new byte[24]];
        byte[] dtls = [22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0];
        foreach (var datagram in new[] { rtp, rtcp, dtls }) attacker.SendTo(datagram, call.ServerMedia);
        attacker.SendTo(Check(call.Subscriber.Offer!, password: "not-the-password-at-all!!"), call.ServerMedia);
        attacker.SendTo(WithoutIntegrity(call.SubscribeCheck(useCandidate: true)), call.ServerMedia);
        // The subscriber transport's ufrag with the publisher transport's password: integrity fails.
        attacker.SendTo(Check(call.Subscriber.Offer!, password: call.Publisher.Answer!.IcePwdFor(call.Publisher.Answer!.Media[0])), call.ServerMedia);
        // (A check that passes with another transport's credentials moves that transport, even from an address a
        // different transport used: a NAT gave the port to another client. MalformedDatagramTests covers it.)

        var packets = call.VideoPackets;
        await call.UntilAsync(() => call.VideoPackets > packets + 30, "video keeps reaching the subscriber's address");
        var after = await MetricsSnapshot.ScrapeAsync(server);
        double Delta(string series) => after[series] - before[series];
        Assert.Multiple(() =>
        {
            Assert.That(Delta("sfu_media_dropped_total{reason=\"unknown-source\"}"), Is.EqualTo(3), "RTP, RTCP and DTLS from an unverified address");
            Assert.That(Delta("sfu_media_dropped_total{reason=\"auth-failure\"}"), Is.EqualTo(3), "wrong password, no integrity, another transport's password");
            Assert.That(Delta("sfu_media_rebinds_refused_total{reason=\"wrong-credentials\"}"), Is.EqualTo(2));
            Assert.That(Delta("sfu_media_rebinds_refused_total{reason=\"unauthenticated\"}"), Is.EqualTo(1));
            Assert.That(after.Sum("sfu_media_rebinds_total"), Is.Zero, "no transport moved");
        });
    }

    [Test]
    public async Task ReplayedSrtcpFromTheClientsOwnAddress_IsDroppedAsReplay_AndMediaIsUnaffected()
    {
        await using var server = await SfuTestServer.StartAsync();
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: true);
        byte[]? captured = null;
        // Copy (and let through) one of the subscriber's SRTCP packets on its way to the server.
        call.Relay!.ClientToServer.DropWhen = datagram =>
        {
            var bytes = datagram.Span;
            if (captured is null && bytes.Length > 8 && bytes[0] >= 128 && bytes[1] is >= 200 and <= 206) captured = bytes.ToArray();
            return false;
        };
        await call.UntilAsync(() => captured is not null, "the subscriber sent RTCP");
        var before = await call.MetricAsync("sfu_media_dropped_total{reason=\"replay\"}");

        call.Subscriber.Transport.SendRaw(captured);
        call.Subscriber.Transport.SendRaw(captured);
        await call.UntilMetricAsync("sfu_media_dropped_total{reason=\"replay\"}", before + 2);
        var packets = call.VideoPackets;
        await call.UntilAsync(() => call.VideoPackets > packets + 30, "video keeps flowing");

        Assert.That((await MetricsSnapshot.ScrapeAsync(server)).Sum("sfu_media_rebinds_total"), Is.Zero, "a replay moves nothing");
    }

    [Test]
    public async Task RestartIceOnTheSubscribeTransport_NewCredentialsInANewOffer_MediaContinues_WithoutANewDtlsHandshake()
    {
        await using var server = await SfuTestServer.StartAsync();
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: false);
        var oldUfrag = call.Subscriber.Offer!.IceUfragFor(call.Subscriber.Offer.Media[0]);

        await call.SubscriberSignaling.RestartIceAsync();
        await call.Subscriber.WaitForOffersAnsweredAsync(2, RebindingCall.Wait);
        var packets = call.VideoPackets;
        await call.UntilAsync(() => call.VideoPackets > packets + 60, "video keeps flowing after the restart");

        var metrics = await MetricsSnapshot.ScrapeAsync(server);
        Assert.Multiple(() =>
        {
            Assert.That(call.Subscriber.Offer!.IceUfragFor(call.Subscriber.Offer.Media[0]), Is.Not.EqualTo(oldUfrag));
            Assert.That(metrics["sfu_media_ice_restarts_total{direction=\"subscribe\"}"], Is.EqualTo(1));
            Assert.That(metrics["sfu_media_dtls_handshakes_total{result=\"ok\"}"], Is.EqualTo(2), "DTLS carried on");
        });
    }

    [Test]
    public async Task PublishRenegotiationWithNewIceCredentials_RestartsIce_MediaContinues_WithoutANewDtlsHandshake()
    {
        await using var server = await SfuTestServer.StartAsync();
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: false);
        var transport = call.Publisher.Transport;
        var oldServerUfrag = RemoteTransport.FromSdp(call.Publisher.Answer!).Ice.Ufrag;

        var local = ClientTransport.NewIceCredentials();
        var offer = call.Publisher.Offer!;
        foreach (var media in offer.Media)
        {
            media.IceUfrag = local.Ufrag;
            media.IcePwd = local.Password;
        }
        var answer = SdpParser.Parse(await call.PublisherSignaling.PublishAsync(SdpWriter.Write(offer)));
        var remote = RemoteTransport.FromSdp(answer);
        transport.RestartIce(remote.Ice, local);

        var packets = call.VideoPackets;
        await call.UntilAsync(() => call.VideoPackets > packets + 60, "video keeps flowing after the restart");
        var metrics = await MetricsSnapshot.ScrapeAsync(server);
        Assert.Multiple(() =>
        {
            Assert.That(remote.Ice.Ufrag, Is.Not.EqualTo(oldServerUfrag), "the server answered with fresh credentials");
            Assert.That(metrics["sfu_media_ice_restarts_total{direction=\"publish\"}"], Is.EqualTo(1));
            Assert.That(metrics["sfu_media_dtls_handshakes_total{result=\"ok\"}"], Is.EqualTo(2), "DTLS carried on");
        });
    }

    /// <summary>A check for the first transport described by <paramref name="sdp"/>, signed with <paramref name="password"/> (its own when null).</summary>
    private static byte[] Check(SessionDescription sdp, string? password)
    {
        var media = sdp.Media.First(m => !m.IsRejected);
        var buffer = new byte[IceStunMessages.MaxMessageLength];
        Span<byte> transaction = stackalloc byte[12];
        StunMessageWriter.NewTransactionId(transaction);
        var length = IceStunMessages.WriteBindingRequest(buffer, transaction, Encoding.ASCII.GetBytes($"{sdp.IceUfragFor(media)}:spoof"),
            1, 1, true, Encoding.ASCII.GetBytes(password ?? sdp.IcePwdFor(media)!));
        return buffer[..length];
    }

    /// <summary>The same check with its MESSAGE-INTEGRITY and FINGERPRINT cut off (the header length fixed up).</summary>
    private static byte[] WithoutIntegrity(byte[] check)
    {
        var reader = StunMessageReader.TryParse(check, out var message) ? message : throw new InvalidOperationException();
        var end = 20;
        foreach (var attribute in reader.GetAttributes())
        {
            if (attribute.Type == (ushort)StunAttributeType.MessageIntegrity) break;
            end += 4 + ((attribute.Value.Length + 3) & ~3);
        }
        var stripped = check[..end];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(stripped.AsSpan(2), (ushort)(end - 20));
        return stripped;
    }
}
