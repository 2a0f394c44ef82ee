using System.Net;
using System.Net.Sockets;
using Sfu.Client.Transport.IceTcp;
using Sfu.Media.IceTcp;

namespace Sfu.Tests.Client;

/// <summary>
/// The client's ICE-TCP connection against a plain TCP socket: with shaping, what goes out is still every packet
/// framed, whole and in order, however the writes were cut; what comes in several frames to a segment and cut anywhere
/// still reaches the transport as the packets that were sent.
/// </summary>
public sealed class ClientIceTcpConnectionTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [TestCase(1)]
    [TestCase(7)]
    public async Task ShapedWrites_CutAndCoalesceFrames_AndTheStreamStillCarriesEveryPacketInOrder(int seed)
    {
        using var listener = Listen();
        using var connection = new ClientIceTcpConnection(new IPEndPoint(IPAddress.Loopback, 0), new IceTcpShaping(seed));
        var connected = new TaskCompletionSource();
        _ = connection.RunAsync((IPEndPoint)listener.LocalEndPoint!, connected.SetResult, _ => { }, _ => { });
        using var server = await listener.AcceptAsync().WaitAsync(Wait);
        await connected.Task.WaitAsync(Wait);

        var packets = Enumerable.Range(0, 300).Select(Packet).ToList();
        // Read while sending: the sends block once the kernel's buffers are full.
        var reading = Task.Run(() => ReadPacketsAsync(server, packets.Count));
        var sent = packets.Count(p => connection.Send(p));
        connection.Flush();

        var received = await reading;
        Assert.Multiple(() =>
        {
            Assert.That(sent, Is.EqualTo(packets.Count));
            Assert.That(received, Is.EqualTo(packets), "every packet, whole and in order");
            Assert.That(connection.FramesSent, Is.EqualTo(packets.Count));
            Assert.That(connection.Writes, Is.GreaterThan(packets.Count), "frames went out in pieces");
            Assert.That(connection.WritesAcrossFrames, Is.GreaterThan(0), "some writes carried parts of two frames");
            Assert.That(connection.CutsInsideFrames, Is.GreaterThan(0), "some writes ended inside a frame");
        });
    }

    [Test]
    public async Task FramesSeveralToASegmentAndCutAnywhere_ReachTheTransportAsThePacketsSent_AndAClosePathIsReportedOnce()
    {
        using var listener = Listen();
        using var connection = new ClientIceTcpConnection(new IPEndPoint(IPAddress.Loopback, 0), new IceTcpShaping(3));
        var delivered = new List<byte[]>();
        var allDelivered = new TaskCompletionSource();
        var closes = new List<string>();
        var closed = new TaskCompletionSource();
        var packets = Enumerable.Range(0, 200).Select(Packet).ToList();
        _ = connection.RunAsync((IPEndPoint)listener.LocalEndPoint!, () => { }, packet =>
        {
            delivered.Add(packet.ToArray());
            if (delivered.Count == packets.Count) allDelivered.SetResult();
        }, reason =>
        {
            lock (closes) closes.Add(reason);
            closed.TrySetResult();
        });
        using var server = await listener.AcceptAsync().WaitAsync(Wait);

        // All frames in one buffer, written in chunks of 1, 2, 3... bytes: cut everywhere, many frames to a chunk later on.
        var stream = packets.SelectMany(p => Framed(p)).ToArray();
        for (int offset = 0, chunk = 1; offset < stream.Length; offset += chunk, chunk = chunk * 2 + 1)
        {
            await server.SendAsync(stream.AsMemory(offset, Math.Min(chunk, stream.Length - offset)), SocketFlags.None);
        }

        await allDelivered.Task.WaitAsync(Wait);
        server.Shutdown(SocketShutdown.Both);
        await closed.Task.WaitAsync(Wait);
        Assert.Multiple(() =>
        {
            Assert.That(delivered, Is.EqualTo(packets));
            Assert.That(connection.FramesReceived, Is.EqualTo(packets.Count));
            Assert.That(connection.FramesDropped, Is.Zero);
            Assert.That(connection.ReadsWithSeveralFrames, Is.GreaterThan(0));
            Assert.That(connection.ReadsEndingInsideAFrame, Is.GreaterThan(0));
            Assert.That(connection.IsClosed, Is.True);
            Assert.That(closes, Has.Count.EqualTo(1));
            Assert.That(closes[0], Does.Contain("closed by the other end"));
            Assert.That(connection.Send(packets[0]), Is.False, "a dead path sends nothing");
        });
    }

    private static Socket Listen()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        return listener;
    }

    /// <summary>Packet <paramref name="i"/>: a length from 1 to 1400 and bytes that say which packet it is.</summary>
    private static byte[] Packet(int i) => Enumerable.Range(0, 1 + (i * 397 % 1400)).Select(b => (byte)(i + b)).ToArray();

    private static byte[] Framed(byte[] packet)
    {
        var frame = new byte[packet.Length + 2];
        IceTcpFramer.Write(packet, frame);
        return frame;
    }

    private static async Task<List<byte[]>> ReadPacketsAsync(Socket socket, int count)
    {
        var framer = new IceTcpFramer(ushort.MaxValue);
        var packets = new List<byte[]>();
        var buffer = new byte[64 * 1024];
        while (packets.Count < count)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).AsTask().WaitAsync(Wait);
            Assert.That(read, Is.GreaterThan(0), "the stream ended early");
            Collect(framer, buffer.AsSpan(0, read), packets);
        }

        return packets;
    }

    private static void Collect(IceTcpFramer framer, ReadOnlySpan<byte> bytes, List<byte[]> packets)
    {
        while (!bytes.IsEmpty)
        {
            if (framer.TryRead(ref bytes, out var frame) == IceTcpFrameStatus.Frame) packets.Add(frame.ToArray());
        }
    }
}
