using System.Net;
using System.Net.Sockets;
using Sfu.Media.Diagnostics;
using Sfu.Media.Udp;

namespace Sfu.Tests.Media.Udp;

/// <summary>The media worker's wait: a datagram or a wake from another thread ends it, and a wake does not stick.</summary>
public sealed class UdpPortTests
{
    [Test]
    public async Task Wake_EndsAWaitInProgress_WhichReportsNoDatagram()
    {
        using var port = new UdpPort(IPAddress.Loopback, 0, NewMetrics());
        var waiting = StartLongWait(port);

        port.Wake();

        Assert.That(await EndedAsync(waiting), Is.False, "no datagram is readable");
    }

    [Test]
    public async Task AWake_IsConsumedByTheWaitItEnds()
    {
        using var port = new UdpPort(IPAddress.Loopback, 0, NewMetrics());
        port.Wake();
        port.Wake();

        Assert.That(await EndedAsync(StartLongWait(port)), Is.False, "woken, nothing to read");
        Assert.That(port.Wait(TimeSpan.Zero), Is.False, "both wakes were drained by that one wait");
    }

    [Test]
    public async Task ADatagram_EndsTheWait_AndIsReadable()
    {
        using var port = new UdpPort(IPAddress.Loopback, 0, NewMetrics());
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.SendTo(new byte[] { 0x80, 1, 2, 3 }, new IPEndPoint(IPAddress.Loopback, port.LocalEndPoint.Port));

        Assert.That(await EndedAsync(StartLongWait(port)), Is.True);
        var from = new SocketAddress(AddressFamily.InterNetwork);
        Assert.That(port.ReceiveBatch(), Is.EqualTo(1));
        Assert.That(port.Received(0, from).Length, Is.EqualTo(4));
    }

    [Test]
    public void Wake_AfterDispose_IsHarmless()
    {
        var port = new UdpPort(IPAddress.Loopback, 0, NewMetrics());
        port.Dispose();
        Assert.That(port.Wake, Throws.Nothing);
    }

    internal static MediaMetrics NewMetrics() => new(Prometheus.Metrics.NewCustomRegistry());

    /// <summary>A wait far longer than the test may take, so that only a wake or a datagram can end it in time.</summary>
    private static Task<bool> StartLongWait(UdpPort port) =>
        Task.Factory.StartNew(() => port.Wait(TimeSpan.FromMinutes(5)), TaskCreationOptions.LongRunning);

    private static async Task<bool> EndedAsync(Task<bool> waiting)
    {
        Assert.That(await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromSeconds(10))), Is.SameAs(waiting), "the wait ended");
        return await waiting;
    }
}
