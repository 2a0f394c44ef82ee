using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Client;

/// <summary>The relay over loopback between two plain UDP sockets standing in for client and server.</summary>
public sealed class UdpRelayTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private UdpClient _server = null!;
    private UdpClient _client = null!;

    [SetUp]
    public void OpenSockets()
    {
        _server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        _client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
    }

    [TearDown]
    public void CloseSockets()
    {
        _server.Dispose();
        _client.Dispose();
    }

    private IPEndPoint ServerEndPoint => (IPEndPoint)_server.Client.LocalEndPoint!;

    [Test]
    public async Task Forwards_BothWays_FromItsUpstreamAddress_AndCounts()
    {
        await using var relay = new UdpRelay(ServerEndPoint);
        await _client.SendAsync(new byte[] { 1, 2, 3 }, relay.ListenEndPoint);
        var atServer = await _server.ReceiveAsync().WaitAsync(Wait);
        Assert.That(atServer.Buffer, Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(atServer.RemoteEndPoint, Is.EqualTo(relay.UpstreamEndPoint));

        await _server.SendAsync(new byte[] { 9 }, atServer.RemoteEndPoint);
        var atClient = await _client.ReceiveAsync().WaitAsync(Wait);
        Assert.Multiple(() =>
        {
            Assert.That(atClient.Buffer, Is.EqualTo(new byte[] { 9 }));
            Assert.That(atClient.RemoteEndPoint, Is.EqualTo(relay.ListenEndPoint));
            Assert.That(relay.ClientToServer.Forwarded, Is.EqualTo(1));
            Assert.That(relay.ServerToClient.Forwarded, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Duplicate_DeliversEachDatagramTwice_TheCopyRightAfterTheOriginal()
    {
        await using var relay = new UdpRelay(ServerEndPoint);
        relay.ClientToServer.DuplicateProbability = 1;
        for (var i = 0; i < 3; i++) await _client.SendAsync(new[] { (byte)i }, relay.ListenEndPoint);
        var arrived = new List<byte>();
        for (var i = 0; i < 6; i++) arrived.Add((await _server.ReceiveAsync().WaitAsync(Wait)).Buffer[0]);
        Assert.Multiple(() =>
        {
            Assert.That(arrived, Is.EqualTo(new byte[] { 0, 0, 1, 1, 2, 2 }));
            Assert.That(relay.ClientToServer.Duplicated, Is.EqualTo(3));
            Assert.That(relay.ClientToServer.Forwarded, Is.EqualTo(6));
        });
    }

    [Test]
    public async Task BlackHole_DropsEverything_UntilLifted()
    {
        await using var relay = new UdpRelay(ServerEndPoint);
        relay.ClientToServer.BlackHole = true;
        for (var i = 0; i < 5; i++) await _client.SendAsync(new[] { (byte)i }, relay.ListenEndPoint);
        await WaitUntil(() => relay.ClientToServer.Received == 5);
        Assert.That(relay.ClientToServer.Dropped, Is.EqualTo(5));
        Assert.That(_server.Available, Is.Zero);

        relay.ClientToServer.BlackHole = false;
        await _client.SendAsync(new byte[] { 42 }, relay.ListenEndPoint);
        var got = await _server.ReceiveAsync().WaitAsync(Wait);
        Assert.That(got.Buffer, Is.EqualTo(new byte[] { 42 }));
    }

    [Test]
    public async Task RandomDrops_AreDeterministicForASeed()
    {
        var first = await SurvivorsAsync(seed: 5);
        var second = await SurvivorsAsync(seed: 5);
        var other = await SurvivorsAsync(seed: 6);
        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(second));
            Assert.That(first, Is.Not.EqualTo(other));
            Assert.That(first.Count, Is.InRange(45, 95), "about 30% of 100 dropped");
        });
    }

    [Test]
    public async Task Delay_HoldsEachDatagram()
    {
        await using var relay = new UdpRelay(ServerEndPoint);
        relay.ClientToServer.Delay = TimeSpan.FromMilliseconds(150);
        var clock = Stopwatch.StartNew();
        await _client.SendAsync(new byte[] { 1 }, relay.ListenEndPoint);
        await _server.ReceiveAsync().WaitAsync(Wait);
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(140)));
    }

    [Test]
    public async Task Reorder_LetsLaterDatagramsOvertake_WithoutLosingAny()
    {
        await using var relay = new UdpRelay(ServerEndPoint, seed: 3);
        relay.ClientToServer.ReorderProbability = 0.3;
        relay.ClientToServer.ReorderDelay = TimeSpan.FromMilliseconds(30);
        for (var i = 0; i < 50; i++)
        {
            await _client.SendAsync(new[] { (byte)i }, relay.ListenEndPoint);
            await Task.Delay(2);
        }

        var order = new List<int>();
        while (order.Count < 50) order.Add((await _server.ReceiveAsync().WaitAsync(Wait)).Buffer[0]);
        Assert.Multiple(() =>
        {
            Assert.That(order, Is.EquivalentTo(Enumerable.Range(0, 50)));
            Assert.That(order, Is.Not.Ordered);
            Assert.That(relay.ClientToServer.Reordered, Is.GreaterThan(0));
        });
    }

    [Test]
    public async Task RebindUpstream_ChangesTheSourceTheServerSees_AndLosesRepliesToTheOldOne()
    {
        await using var relay = new UdpRelay(ServerEndPoint);
        await _client.SendAsync(new byte[] { 1 }, relay.ListenEndPoint);
        var before = (await _server.ReceiveAsync().WaitAsync(Wait)).RemoteEndPoint;

        var after = relay.RebindUpstream();
        await _client.SendAsync(new byte[] { 2 }, relay.ListenEndPoint);
        var seen = (await _server.ReceiveAsync().WaitAsync(Wait)).RemoteEndPoint;
        Assert.Multiple(() =>
        {
            Assert.That(after.Port, Is.Not.EqualTo(before.Port));
            Assert.That(seen, Is.EqualTo(after));
        });

        await _server.SendAsync(new byte[] { 7 }, before);   // to the forgotten mapping
        await _server.SendAsync(new byte[] { 8 }, after);
        var reply = await _client.ReceiveAsync().WaitAsync(Wait);
        Assert.That(reply.Buffer, Is.EqualTo(new byte[] { 8 }));
        await Task.Delay(50);
        Assert.That(_client.Available, Is.Zero);
    }

    private async Task<List<int>> SurvivorsAsync(int seed)
    {
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await using var relay = new UdpRelay((IPEndPoint)server.Client.LocalEndPoint!, seed: seed);
        relay.ClientToServer.DropProbability = 0.3;
        for (var i = 0; i < 100; i++) await _client.SendAsync(new[] { (byte)i }, relay.ListenEndPoint);
        await WaitUntil(() => relay.ClientToServer.Received == 100);
        var survivors = new List<int>();
        while (survivors.Count < relay.ClientToServer.Forwarded) survivors.Add((await server.ReceiveAsync().WaitAsync(Wait)).Buffer[0]);
        return survivors;
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("condition not met in time");
            await Task.Delay(5);
        }
    }
}
