using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Sfu.Media.Diagnostics;
using Sfu.Media.Udp;

namespace Sfu.Tests.Media.Udp;

/// <summary>
/// The port's batches on real loopback sockets: a receive takes what is queued with its senders, queued sends leave in
/// order at a flush or when the batch fills, and a destination the kernel refuses costs only its own datagrams.
/// </summary>
public sealed class UdpPortBatchTests
{
    [Test]
    public void ReceiveBatch_TakesAFullBatchThenTheRest_EachWithItsSender()
    {
        var metrics = UdpPortTests.NewMetrics();
        using var port = new UdpPort(IPAddress.Loopback, 0, metrics);
        using var first = Bound();
        using var second = Bound();
        var total = UdpPort.ReceiveBatchSize + 8;
        for (var i = 0; i < total; i++) (i % 2 == 0 ? first : second).SendTo(Numbered(i, 100 + i), port.LocalEndPoint);
        Assert.That(port.Wait(TimeSpan.FromSeconds(5)), Is.True);

        var received = new List<(int Number, int Length, SocketAddress From)>();
        var from = new SocketAddress(AddressFamily.InterNetwork);
        var batches = new List<int>();
        while (received.Count < total && batches.Count < 10)
        {
            var count = port.ReceiveBatch();
            batches.Add(count);
            for (var i = 0; i < count; i++)
            {
                var datagram = port.Received(i, from);
                received.Add((BinaryPrimitives.ReadInt32BigEndian(datagram), datagram.Length, CopyOf(from)));
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(batches, Is.EqualTo(new[] { UdpPort.ReceiveBatchSize, 8 }));
            Assert.That(received.Select(r => r.Number), Is.EqualTo(Enumerable.Range(0, total)));
            Assert.That(received.Select(r => r.Length), Is.EqualTo(Enumerable.Range(100, total)));
            Assert.That(received.Select(r => r.From), Is.EqualTo(Enumerable.Range(0, total).Select(i => (i % 2 == 0 ? first : second).LocalEndPoint!.Serialize())));
            Assert.That(port.ReceiveBatch(), Is.Zero, "nothing left: an empty batch, not an exception");
        });
    }

    [Test]
    public void ReceiveBatch_EachDatagramCarriesTheKernelsArrivalStamp_InOrderOfArrival()
    {
        using var port = new UdpPort(IPAddress.Loopback, 0, UdpPortTests.NewMetrics());
        using var sender = Bound();
        var before = ArrivalClock.WallNow();
        sender.SendTo(Numbered(1, 100), port.LocalEndPoint);
        Thread.Sleep(20); // two arrivals far enough apart for the stamps to tell them apart, whenever the port reads them
        sender.SendTo(Numbered(2, 100), port.LocalEndPoint);
        Thread.Sleep(50); // the worker is late: the stamps still say when each arrived
        Assert.That(port.Wait(TimeSpan.FromSeconds(5)), Is.True);
        var count = port.ReceiveBatch();
        var after = ArrivalClock.WallNow();

        Assert.That(count, Is.EqualTo(2));
        var first = port.ReceivedAt(0);
        var second = port.ReceivedAt(1);
        Assert.Multiple(() =>
        {
            Assert.That(first, Is.Not.Null.And.InRange(before, after), "stamped on arrival, on the wall clock");
            Assert.That(second, Is.Not.Null.And.InRange(before, after));
            Assert.That(second - first, Is.GreaterThanOrEqualTo(15_000_000), "the second arrived ~20 ms after the first");
            Assert.That(after - second, Is.GreaterThanOrEqualTo(40_000_000), "the stamp is the arrival, not the read ~50 ms later");
        });
    }

    [Test]
    public void ReceiveBatch_ADatagramLongerThanASlot_ReadsAsEmpty_AndTheNextIsIntact()
    {
        using var port = new UdpPort(IPAddress.Loopback, 0, UdpPortTests.NewMetrics());
        using var sender = Bound();
        sender.SendTo(Numbered(1, UdpPort.MaxReceivedDatagram + 1), port.LocalEndPoint);
        sender.SendTo(Numbered(2, 200), port.LocalEndPoint);
        Assert.That(port.Wait(TimeSpan.FromSeconds(5)), Is.True);
        var from = new SocketAddress(AddressFamily.InterNetwork);

        var lengths = new List<int>();
        for (var attempts = 0; lengths.Count < 2 && attempts < 10; attempts++)
        {
            var count = port.ReceiveBatch();
            for (var i = 0; i < count; i++) lengths.Add(port.Received(i, from).Length);
        }

        Assert.That(lengths, Is.EqualTo(new[] { 0, 200 }));
    }

    [Test]
    public void QueuedSends_LeaveAtTheFlush_InOrder()
    {
        var metrics = UdpPortTests.NewMetrics();
        using var port = new UdpPort(IPAddress.Loopback, 0, metrics);
        using var sink = Bound();
        var to = sink.LocalEndPoint!.Serialize();
        for (var i = 0; i < 10; i++) Assert.That(port.TrySend(Numbered(i, 300), to), Is.True);

        Assert.That(sink.Poll(TimeSpan.FromMilliseconds(100), SelectMode.SelectRead), Is.False, "queued, not yet sent");
        port.Flush();

        Assert.Multiple(() =>
        {
            Assert.That(ReadNumbers(sink, 10), Is.EqualTo(Enumerable.Range(0, 10)));
            Assert.That(metrics.PacketsSent, Is.EqualTo(10));
            Assert.That(metrics.BytesSent, Is.EqualTo(3000));
        });
    }

    [Test]
    public void AFullBatch_LeavesWithoutAFlush()
    {
        using var port = new UdpPort(IPAddress.Loopback, 0, UdpPortTests.NewMetrics());
        using var sink = Bound();
        var to = sink.LocalEndPoint!.Serialize();

        for (var i = 0; i < UdpPort.SendBatchSize + 3; i++) port.TrySend(Numbered(i, 100), to);

        Assert.That(ReadNumbers(sink, UdpPort.SendBatchSize), Is.EqualTo(Enumerable.Range(0, UdpPort.SendBatchSize)));
        Assert.That(sink.Poll(TimeSpan.FromMilliseconds(100), SelectMode.SelectRead), Is.False, "the 3 after the full batch wait for a flush");
    }

    [Test]
    public void ARefusedDestination_InTheMiddleOfABatch_CostsOnlyItsOwnDatagrams()
    {
        var metrics = UdpPortTests.NewMetrics();
        using var port = new UdpPort(IPAddress.Loopback, 0, metrics);
        using var before = Bound();
        using var after = Bound();
        // Port 0 is no destination: the kernel refuses each datagram to it (EINVAL), which stops a sendmmsg there.
        var refused = new IPEndPoint(IPAddress.Loopback, 0).Serialize();
        var sinks = new[] { before.LocalEndPoint!.Serialize(), refused, after.LocalEndPoint!.Serialize() };
        const int Rounds = 15; // 45 datagrams: one batch, with a refused one every third

        for (var i = 0; i < Rounds; i++)
        {
            foreach (var to in sinks) port.TrySend(Numbered(i, 200), to);
        }
        port.Flush();

        Assert.Multiple(() =>
        {
            Assert.That(ReadNumbers(before, Rounds), Is.EqualTo(Enumerable.Range(0, Rounds)));
            Assert.That(ReadNumbers(after, Rounds), Is.EqualTo(Enumerable.Range(0, Rounds)));
            Assert.That(metrics.DroppedCount(DropReason.SendFailed), Is.EqualTo(Rounds));
            Assert.That(metrics.PacketsSent, Is.EqualTo(2 * Rounds));
        });
    }

    [Test]
    public void ADatagramTooLargeToQueue_IsRefusedAndCounted_AndTheBatchGoesOn()
    {
        var metrics = UdpPortTests.NewMetrics();
        using var port = new UdpPort(IPAddress.Loopback, 0, metrics);
        using var sink = Bound();
        var to = sink.LocalEndPoint!.Serialize();

        var oversize = port.TrySend(new byte[UdpPort.MaxSentDatagram + 1], to);
        port.TrySend(Numbered(7, 50), to);
        port.Flush();

        Assert.Multiple(() =>
        {
            Assert.That(oversize, Is.False);
            Assert.That(metrics.DroppedCount(DropReason.SendFailed), Is.EqualTo(1));
            Assert.That(ReadNumbers(sink, 1), Is.EqualTo(new[] { 7 }));
        });
    }

    private static Socket Bound()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private static byte[] Numbered(int number, int length)
    {
        var datagram = new byte[length];
        BinaryPrimitives.WriteInt32BigEndian(datagram, number);
        return datagram;
    }

    /// <summary>The numbers of the next <paramref name="count"/> datagrams, then checks nothing else came.</summary>
    private static List<int> ReadNumbers(Socket sink, int count)
    {
        var numbers = new List<int>();
        var buffer = new byte[2048];
        while (numbers.Count < count && sink.Poll(TimeSpan.FromSeconds(5), SelectMode.SelectRead))
        {
            sink.Receive(buffer);
            numbers.Add(BinaryPrimitives.ReadInt32BigEndian(buffer));
        }
        Assert.That(sink.Poll(TimeSpan.FromMilliseconds(50), SelectMode.SelectRead), Is.False, "no more than expected");
        return numbers;
    }

    private static SocketAddress CopyOf(SocketAddress address)
    {
        var copy = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(copy.Buffer.Span);
        return copy;
    }
}
