using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Sfu.Client.Transport;

namespace Sfu.Tests.Client;

/// <summary>The kernel's receive time of a datagram, which the load tool's latency is measured against.</summary>
public sealed class KernelArrivalTests
{
    [Test]
    public void LastReceived_IsWhenTheKernelGotTheDatagram_NotWhenItWasRead()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("SO_TIMESTAMPNS and SIOCGSTAMPNS are Linux's");
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        KernelArrival.Enable(receiver);
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

        var beforeSend = Stopwatch.GetTimestamp();
        sender.SendTo(new byte[100], receiver.LocalEndPoint!);
        // Loopback delivers within the send: the datagram is stamped by now, and read only afterwards.
        var afterSend = Stopwatch.GetTimestamp();
        Assert.That(receiver.Poll(TimeSpan.FromSeconds(5), SelectMode.SelectRead), Is.True);
        receiver.Receive(new byte[1500]);
        var arrival = KernelArrival.LastReceived(receiver);

        // The wall-to-Stopwatch conversion reads the two clocks one after the other: allow it a millisecond.
        var slack = Stopwatch.Frequency / 1000;
        Assert.That(arrival, Is.InRange(beforeSend - slack, afterSend), "stamped between the send's start and its return, not at the read");
    }
}
