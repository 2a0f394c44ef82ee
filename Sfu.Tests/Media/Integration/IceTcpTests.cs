using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Sfu.Media.IceTcp;
using Sfu.Media.Sdp;
using Sfu.Media.Stun;
using Sfu.Signaling.MediaSessions;
using Sfu.Tests.Infrastructure;
using Sfu.Tests.Media.Sdp;

namespace Sfu.Tests.Media.Integration;

/// <summary>
/// ICE-TCP (RFC 6544, passive) against the real server: the candidate it offers, RFC 4571 framing of checks written
/// in pieces and several to a segment, a closed connection as a dead path, and the bounds on connections that have not
/// passed a check yet. The client side is a raw TCP socket sending signed STUN binding requests.
/// </summary>
public sealed class IceTcpTests
{
    private SfuTestServer _server = null!;

    [TearDown]
    public async Task Stop() => await _server.DisposeAsync();

    [Test]
    public async Task Answer_OffersAPassiveTcpHostCandidate_OnTheTcpPort_BelowUdp()
    {
        _server = await SfuTestServer.StartAsync();
        var media = (await PublishAsync()).Media;
        var udp = media.Candidates.Single(c => c.Transport == "udp");
        var tcp = media.Candidates.Single(c => c.Transport == "tcp");
        Assert.Multiple(() =>
        {
            Assert.That(tcp.Extensions, Is.EqualTo("tcptype passive"));
            Assert.That(tcp.Type, Is.EqualTo("host"));
            Assert.That(tcp.Priority, Is.LessThan(udp.Priority));
            Assert.That(tcp.Port, Is.EqualTo(Worker.TcpPort));
            Assert.That(tcp.Address, Is.EqualTo(udp.Address));
        });
    }

    [Test]
    public async Task TcpDisabled_OffersOnlyUdp()
    {
        _server = await SfuTestServer.StartAsync(null, "Sfu:Media:TcpEnabled=false");
        var media = (await PublishAsync()).Media;
        Assert.Multiple(() =>
        {
            Assert.That(media.Candidates.Select(c => c.Transport), Is.EqualTo(new[] { "udp" }));
            Assert.That(Worker.TcpPort, Is.Null);
        });
    }

    [Test]
    public async Task ChecksWrittenInPiecesAndSeveralPerSegment_AreEachAnswered_InOrder_OnTheConnection()
    {
        _server = await SfuTestServer.StartAsync();
        var transport = await PublishAsync();
        using var socket = await ConnectAsync();
        var checks = Enumerable.Range(0, 6).Select(_ => Check(transport.Ufrag, transport.Password)).ToList();

        // The first frame in four writes, cut inside the length and inside the message; each write goes out on its own
        // (Nagle off, and the next write waits until the kernel has sent this one).
        var first = checks[0].Framed;
        foreach (var (start, end) in new[] { (0, 1), (1, 2), (2, 30), (30, first.Length) })
        {
            await socket.SendAsync(first.AsMemory(start..end));
            await Task.Delay(30);
        }
        // The other five in one write, with the last one cut so its tail comes in the next.
        var rest = checks.Skip(1).SelectMany(c => c.Framed).ToArray();
        await socket.SendAsync(rest.AsMemory(0, rest.Length - 7));
        await Task.Delay(30);
        await socket.SendAsync(rest.AsMemory(rest.Length - 7));

        var answers = await ReadFramesAsync(socket, checks.Count);
        var password = Encoding.ASCII.GetBytes(transport.Password);
        for (var i = 0; i < checks.Count; i++)
        {
            Assert.That(StunMessageReader.TryParse(answers[i], out var answer), Is.True, $"answer {i} parses");
            var mapped = answer.TryGetXorMappedAddress(out IPEndPoint? endPoint) ? endPoint : null;
            var (isSuccess, transaction, authentic) = (answer.Class == StunClass.SuccessResponse, answer.TransactionId.ToArray(), answer.VerifyMessageIntegrity(password));
            Assert.Multiple(() =>
            {
                Assert.That(isSuccess, Is.True);
                Assert.That(transaction, Is.EqualTo(checks[i].TransactionId), $"answer {i} is to check {i}");
                Assert.That(authentic, Is.True);
                Assert.That(mapped, Is.EqualTo(socket.LocalEndPoint));
            });
        }
        var metrics = await MetricsSnapshot.ScrapeAsync(_server);
        Assert.Multiple(() =>
        {
            Assert.That(metrics["sfu_media_tcp_connections{state=\"verified\"}"], Is.EqualTo(1), metrics.ToString());
            Assert.That(metrics["sfu_media_tcp_connections{state=\"unauthenticated\"}"], Is.EqualTo(0));
            Assert.That(metrics["sfu_media_transports_by_protocol{protocol=\"tcp\"}"], Is.EqualTo(1));
        });
    }

    [Test]
    public async Task MediaMovesFromUdpToANominatedTcpPath_AndAClosedConnectionIsADeadPath_NotALeftPeer()
    {
        _server = await SfuTestServer.StartAsync();
        var transport = await PublishAsync();
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await udp.SendAsync(Check(transport.Ufrag, transport.Password).Message, transport.Udp);
        await udp.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));

        var socket = await ConnectAsync();
        await socket.SendAsync(Check(transport.Ufrag, transport.Password).Framed);
        await ReadFramesAsync(socket, 1);
        var onTcp = await MetricsSnapshot.ScrapeAsync(_server);
        Assert.Multiple(() =>
        {
            Assert.That(onTcp["sfu_media_path_protocol_switches_total{from=\"udp\",to=\"tcp\"}"], Is.EqualTo(1), onTcp.ToString());
            Assert.That(onTcp["sfu_media_transports_by_protocol{protocol=\"tcp\"}"], Is.EqualTo(1));
            Assert.That(onTcp["sfu_media_transports_by_protocol{protocol=\"udp\"}"], Is.EqualTo(0));
        });

        socket.Dispose();
        // The UDP path is still verified: media goes back there, and the peer is still in the room.
        await Eventually.MetricIsAsync(_server, "sfu_media_transports_by_protocol{protocol=\"udp\"}", 1);
        var back = await MetricsSnapshot.ScrapeAsync(_server);
        Assert.Multiple(() =>
        {
            Assert.That(back["sfu_media_tcp_paths_closed_total"], Is.EqualTo(1), back.ToString());
            Assert.That(back["sfu_media_transports_by_protocol{protocol=\"tcp\"}"], Is.EqualTo(0));
            Assert.That(back["sfu_media_path_protocol_switches_total{from=\"tcp\",to=\"udp\"}"], Is.EqualTo(1));
        });
        var peers = await transport.Client.RequestAsync(new { type = "ping" });
        Assert.That(peers.Ok(), Is.True, "the peer's session is untouched");
    }

    [Test]
    public async Task UnauthenticatedConnections_AreBoundedInNumberBytesAndTime_AndEveryRefusalIsCounted()
    {
        var clock = new ManualClock();
        _server = await SfuTestServer.StartAsync(clock, "Sfu:Media:TcpMaxUnauthenticatedConnections=2", "Sfu:Media:TcpUnauthenticatedMaxBytes=1000");
        var transport = await PublishAsync();

        // Too many bytes before a valid check.
        using var talker = await ConnectAsync();
        await talker.SendAsync(new byte[1500]);
        Assert.That(await ClosedByServerAsync(talker), Is.True, "a connection that sends too much before a check is closed");

        // A verified connection no longer counts against the bound.
        using var verified = await ConnectAsync();
        await verified.SendAsync(Check(transport.Ufrag, transport.Password).Framed);
        Assert.That(await ReadFramesAsync(verified, 1), Has.Count.EqualTo(1));

        // Too many at once: two wait silently, the third is refused.
        using var idle1 = await ConnectAsync();
        using var idle2 = await ConnectAsync();
        await Eventually.MetricIsAsync(_server, "sfu_media_tcp_connections{state=\"unauthenticated\"}", 2);
        using var third = await ConnectAsync();
        Assert.That(await ClosedByServerAsync(third), Is.True, "a third unauthenticated connection is refused");

        // Silent for the timeout: closed. The verified one is not.
        clock.Advance(TimeSpan.FromSeconds(6));
        Assert.Multiple(async () =>
        {
            Assert.That(await ClosedByServerAsync(idle1), Is.True);
            Assert.That(await ClosedByServerAsync(idle2), Is.True);
        });
        await verified.SendAsync(Check(transport.Ufrag, transport.Password).Framed);
        Assert.That(await ReadFramesAsync(verified, 1), Has.Count.EqualTo(1), "the verified connection is still answered");

        var metrics = await MetricsSnapshot.ScrapeAsync(_server);
        Assert.Multiple(() =>
        {
            Assert.That(metrics["sfu_media_tcp_refused_total{reason=\"unauthenticated-bytes\"}"], Is.EqualTo(1), metrics.ToString());
            Assert.That(metrics["sfu_media_tcp_refused_total{reason=\"too-many-unauthenticated\"}"], Is.EqualTo(1));
            Assert.That(metrics["sfu_media_tcp_refused_total{reason=\"unauthenticated-timeout\"}"], Is.EqualTo(2));
        });
    }

    private Sfu.Media.Worker.MediaWorker Worker => _server.MediaWorker;

    private sealed record Published(TestClient Client, MediaDescription Media, string Ufrag, string Password, IPEndPoint Udp);

    private async Task<Published> PublishAsync()
    {
        var (client, _) = await _server.JoinAsync("r");
        var response = await client.RequestAsync(new { type = "publish", sdp = SdpFixtures.Load(SdpFixtures.ChromeSendOnly) });
        Assert.That(response.Ok(), Is.True, response.ToString());
        var answer = SdpParser.Parse(response.Str("sdp"));
        var media = answer.Media[0];
        var udp = media.Candidates.First(c => c.Transport == "udp");
        return new Published(client, media, answer.IceUfragFor(media)!, answer.IcePwdFor(media)!, new IPEndPoint(IPAddress.Parse(udp.Address), udp.Port));
    }

    private async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, Worker.TcpPort!.Value);
        return socket;
    }

    private sealed record SignedCheck(byte[] Message, byte[] Framed, byte[] TransactionId);

    private static SignedCheck Check(string serverUfrag, string password)
    {
        var buffer = new byte[IceStunMessages.MaxMessageLength];
        var transaction = new byte[12];
        StunMessageWriter.NewTransactionId(transaction);
        var length = IceStunMessages.WriteBindingRequest(buffer, transaction, Encoding.ASCII.GetBytes($"{serverUfrag}:client"), 1_000_000, 42, true, Encoding.ASCII.GetBytes(password));
        var framed = new byte[length + 2];
        IceTcpFramer.Write(buffer.AsSpan(0, length), framed);
        return new SignedCheck(buffer[..length], framed, transaction);
    }

    /// <summary>Reads until <paramref name="count"/> whole RFC 4571 frames arrived.</summary>
    private static async Task<List<byte[]>> ReadFramesAsync(Socket socket, int count)
    {
        var framer = new IceTcpFramer(1500);
        var frames = new List<byte[]>();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (frames.Count < count)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            if (read == 0) throw new InvalidOperationException($"closed after {frames.Count} frames");
            Collect(framer, buffer.AsSpan(0, read), frames);
        }
        return frames;
    }

    private static void Collect(IceTcpFramer framer, ReadOnlySpan<byte> bytes, List<byte[]> frames)
    {
        while (!bytes.IsEmpty)
        {
            if (framer.TryRead(ref bytes, out var frame) == IceTcpFrameStatus.Frame) frames.Add(frame.ToArray());
        }
    }

    /// <summary>True when the server closes the connection (reads end, or reset) within a few seconds.</summary>
    private static async Task<bool> ClosedByServerAsync(Socket socket)
    {
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            while (true)
            {
                if (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) == 0) return true;
            }
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
