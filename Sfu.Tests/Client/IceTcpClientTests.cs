using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Sfu.Client;
using Sfu.Client.Signaling;
using Sfu.Client.Transport;
using Sfu.Client.Transport.IceTcp;
using Sfu.Signaling.MediaSessions;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Client;

/// <summary>
/// The C# client over ICE-TCP only (RFC 6544, RFC 4571 framing) against the real server: checks, DTLS, SRTP and a data
/// track all over one TCP connection per transport, with the client's writes coalesced and cut at random offsets and
/// its reads made small (<see cref="IceTcpShaping"/>), so both framers meet partial frames and several frames per read.
/// Then a TCP connection cut under a live publisher: a dead path for the client, not a departure for the room, and the
/// client back over a new TCP connection or over UDP.
/// </summary>
[NonParallelizable]
public sealed class IceTcpClientTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Test]
    public async Task PublisherAndSubscriber_OverIceTcpWithShapedFraming_MediaAndADataTrackArriveWhole_AndTheServerCountsTcpTransports()
    {
        await using var server = await SfuTestServer.StartAsync();
        await using var subscriberSignaling = await JoinAsync(server, "tcp-room", "sub");
        using var subscriber = new Subscriber(subscriberSignaling, new SubscriberOptions { Transport = TcpOnly(seed: 12) });
        var messages = new List<string>();
        var opened = new TaskCompletionSource();
        subscriber.Transport.DataChannels.ChannelOpened += _ => opened.TrySetResult();
        subscriber.Transport.DataChannels.MessageReceived += (_, message) =>
        {
            lock (messages) messages.Add(message.Text);
        };
        await using var publisherSignaling = await JoinAsync(server, "tcp-room", "pub");
        using var publisher = new Publisher(new PublisherOptions { Data = true, Transport = TcpOnly(seed: 34) });

        await publisher.PublishAsync(publisherSignaling);
        await publisher.Transport.WaitConnectedAsync(Wait);
        var chat = await publisher.PublishDataAsync("chat");
        await subscriber.WaitForOffersAnsweredAsync(1, Wait);
        await subscriber.Transport.WaitConnectedAsync(Wait);
        await opened.Task.WaitAsync(Wait);
        for (var i = 0; i < 500; i++) await chat.SendAsync($"m{i}");

        var live = subscriber.Offer!.Media.Where(m => !m.IsRejected && m.Kind is "audio" or "video").ToDictionary(m => m.Kind, m => m.Mid!);
        await Until(() => subscriber.FindByMid(live["video"]) is { Packets: > 150 } && subscriber.FindByMid(live["audio"]) is { Packets: > 100 });
        await Until(() => { lock (messages) return messages.Count == 500; });
        var video = subscriber.FindByMid(live["video"])!;
        var audio = subscriber.FindByMid(live["audio"])!;
        var metrics = await MetricsSnapshot.ScrapeAsync(server);
        var sent = publisher.Transport.IceTcp!;
        var received = subscriber.Transport.IceTcp!;
        TestContext.Out.WriteLine($"{video}\n{audio}");
        TestContext.Out.WriteLine($"publisher: {sent.FramesSent} frames in {sent.Writes} writes, {sent.WritesAcrossFrames} across frames, {sent.CutsInsideFrames} cuts inside frames");
        TestContext.Out.WriteLine($"subscriber: {received.FramesReceived} frames in {received.Reads} reads, {received.ReadsWithSeveralFrames} with several, {received.ReadsEndingInsideAFrame} ending inside one");
        Assert.Multiple(() =>
        {
            foreach (var client in new[] { publisher.Transport, subscriber.Transport })
            {
                Assert.That(client.MappedEndPoint, Is.EqualTo(client.LocalEndPoint), "the server saw the TCP connection's address");
                Assert.That(client.IceTcp!.FramesDropped, Is.Zero);
                Assert.That(client.IceTcp.CutsInsideFrames, Is.GreaterThan(0), "the server read partial frames");
                Assert.That(client.DeadPathReason, Is.Null);
                Assert.That(client.SrtpFailures, Is.Zero);
            }

            Assert.That(sent.WritesAcrossFrames, Is.GreaterThan(0), "the server read several frames in one segment");
            Assert.That(received.ReadsWithSeveralFrames, Is.GreaterThan(0));
            Assert.That(received.ReadsEndingInsideAFrame, Is.GreaterThan(0));
            Assert.That(video.Lost, Is.Zero, "TCP loses nothing");
            Assert.That(audio.Lost, Is.Zero);
            Assert.That(video.Keyframes, Is.GreaterThanOrEqualTo(1));
            Assert.That(messages, Is.EqualTo(Enumerable.Range(0, 500).Select(i => $"m{i}")), "the data track's messages, in order");
            Assert.That(metrics["sfu_media_transports_by_protocol{protocol=\"tcp\"}"], Is.EqualTo(2), metrics.ToString());
            Assert.That(metrics["sfu_media_transports_by_protocol{protocol=\"udp\"}"], Is.Zero, "no UDP path at all");
            Assert.That(metrics["sfu_media_tcp_connections{state=\"verified\"}"], Is.EqualTo(2));
        });
    }

    [TestCase(true, TestName = "ACutTcpConnection_IsADeadPath_AndTheClientComesBackOverANewTcpConnection_WithoutThePeerLeaving")]
    [TestCase(false, TestName = "ACutTcpConnection_IsADeadPath_AndTheClientComesBackOverUdp_WithoutThePeerLeaving")]
    public async Task ACutTcpConnection_IsADeadPath_AndTheClientComesBack_WithoutThePeerLeaving(bool overTcp)
    {
        await using var server = await SfuTestServer.StartAsync();
        var tcpPort = server.MediaWorker.TcpPort!.Value;
        using var middlebox = new CuttableTcpRelay(new IPEndPoint(IPAddress.Loopback, tcpPort));
        await using var subscriberSignaling = await JoinAsync(server, "cut-room", "sub");
        using var subscriber = new Subscriber(subscriberSignaling);
        await using var publisherSignaling = await JoinAsync(server, "cut-room", "pub");
        using var publisher = new Publisher(new PublisherOptions { Audio = false, Transport = TcpOnly(seed: 56) });
        var died = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        publisher.Transport.PathDied += (_, reason) => died.TrySetResult(reason);

        await publisher.PublishAsync(publisherSignaling, sendTo: middlebox.ListenEndPoint);
        await publisher.Transport.WaitConnectedAsync(Wait);
        await subscriber.WaitForOffersAnsweredAsync(1, Wait);
        var videoMid = subscriber.Offer!.Media.Single(m => m.Kind == "video" && !m.IsRejected).Mid!;
        await Until(() => subscriber.FindByMid(videoMid) is { Packets: > 60 });
        var firstConnection = publisher.Transport.IceTcp!;
        var mappedBefore = publisher.Transport.MappedEndPoint;

        middlebox.Cut();
        var reason = await died.Task.WaitAsync(Wait);
        await Eventually.MetricIsAsync(server, "sfu_media_tcp_paths_closed_total", 1);
        Assert.That(publisher.Transport.DeadPathReason, Is.EqualTo(reason));

        var atCut = subscriber.FindByMid(videoMid)!.Packets;
        if (overTcp)
        {
            await publisher.Transport.RebindAsync();
        }
        else
        {
            publisher.Transport.MoveToUdp();
        }

        await Until(() => subscriber.FindByMid(videoMid)!.Packets > atCut + 60);
        var metrics = await MetricsSnapshot.ScrapeAsync(server);
        Assert.Multiple(() =>
        {
            Assert.That(reason, Does.Contain("ICE-TCP connection"));
            Assert.That(firstConnection.IsClosed, Is.True);
            Assert.That(publisher.Transport.DeadPathReason, Is.Null, "the new path lives");
            Assert.That(publisher.Transport.MappedEndPoint, Is.Not.EqualTo(mappedBefore), "the server answered on the new path");
            Assert.That(subscriberSignaling.Events.Select(e => e.Name), Has.None.EqualTo("peer-left"), "the room never saw the publisher go");
            if (overTcp)
            {
                Assert.That(middlebox.Accepted, Is.EqualTo(2), "the client came back on a new connection");
                Assert.That(publisher.Transport.IceTcp, Is.Not.SameAs(firstConnection));
                Assert.That(metrics["sfu_media_transports_by_protocol{protocol=\"tcp\"}"], Is.EqualTo(1), metrics.ToString());
            }
            else
            {
                Assert.That(publisher.Transport.IceTcp, Is.Null);
                Assert.That(publisher.Transport.MappedEndPoint, Is.EqualTo(publisher.Transport.LocalEndPoint), "from the UDP socket");
                Assert.That(metrics["sfu_media_transports_by_protocol{protocol=\"tcp\"}"], Is.Zero, metrics.ToString());
                Assert.That(metrics["sfu_media_transports_by_protocol{protocol=\"udp\"}"], Is.EqualTo(2), "the publisher's and the subscriber's");
            }
        });
    }

    [Test]
    public void IceTcp_WithARelay_IsRefused()
    {
        var relay = new Sfu.Client.Transport.Turn.TurnRelayOptions(new IPEndPoint(IPAddress.Loopback, 3478), "user", "password");
        Assert.That(() => new ClientTransport(new ClientTransportOptions { IceTcp = true, Relay = relay }),
            Throws.ArgumentException.With.Message.Contains("ICE-TCP and a TURN relay"));
    }

    private static ClientTransportOptions TcpOnly(int seed) => new() { IceTcp = true, IceTcpShaping = new IceTcpShaping(seed) };

    private static async Task<SignalingClient> JoinAsync(SfuTestServer server, string room, string name)
    {
        var signaling = await SignalingClient.ConnectAsync(server.WebSocketUri);
        await signaling.JoinAsync(room, name);
        return signaling;
    }

    private static async Task Until(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Wait) Assert.Fail("condition not met in time");
            await Task.Delay(10);
        }
    }
}
