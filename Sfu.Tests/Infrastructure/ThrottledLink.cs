using System.Globalization;
using System.Net;

namespace Sfu.Tests.Infrastructure;

/// <summary>
/// A network namespace (a second machine) joined to the test's own namespace by one veth pair, whose root end can be
/// throttled with a token bucket (<c>tc qdisc ... tbf</c>): what the server sends into the namespace then leaves at
/// that rate, like a subscriber's downlink that shrinks. Names start with "adapt" and carry the process id, so they
/// clash with nothing else on the machine; <see cref="Dispose"/> deletes them.
/// </summary>
public sealed class ThrottledLink : IDisposable
{
    private readonly string _rootEnd;
    private readonly string _subnet;

    private ThrottledLink(NetworkNamespace inside, int id)
    {
        Inside = inside;
        _rootEnd = $"adapt{id % 100_000}";
        _subnet = $"10.214.{id % 250}";
    }

    public NetworkNamespace Inside { get; }

    /// <summary>The root end's address: the server, as the namespace reaches it.</summary>
    public IPAddress ServerAddress => IPAddress.Parse($"{_subnet}.1");

    /// <summary>The namespace's address.</summary>
    public IPAddress InsideAddress => IPAddress.Parse($"{_subnet}.2");

    /// <summary>Builds it; throws <see cref="NetworkNamespaceUnavailableException"/> when the machine cannot.</summary>
    public static ThrottledLink Create()
    {
        var id = Environment.ProcessId;
        var link = new ThrottledLink(NetworkNamespace.Create($"adapt-{id}"), id);
        try
        {
            NetworkNamespace.RootIp("link", "add", link._rootEnd, "type", "veth", "peer", "name", "adapt0", "netns", link.Inside.Name);
            if (!File.Exists("/usr/sbin/tc") && !File.Exists("/sbin/tc")) throw new InvalidOperationException("tc (iproute2) is missing");
        }
        catch (InvalidOperationException e)
        {
            link.Dispose();
            throw new NetworkNamespaceUnavailableException(e.Message);
        }

        try
        {
            NetworkNamespace.RootIp("addr", "add", $"{link.ServerAddress}/24", "dev", link._rootEnd);
            NetworkNamespace.RootIp("link", "set", link._rootEnd, "up");
            link.Inside.Ip("addr", "add", $"{link.InsideAddress}/24", "dev", "adapt0");
            link.Inside.Ip("link", "set", "adapt0", "up");
        }
        catch
        {
            link.Dispose();
            throw;
        }

        return link;
    }

    /// <summary>
    /// From now on the namespace receives at most <paramref name="bitsPerSecond"/>: a token bucket with a burst of
    /// 10 ms at that rate (at least two full-size packets) and a queue of at most <paramref name="queue"/>'s worth,
    /// beyond which packets are dropped, as on a congested access link.
    /// </summary>
    public void LimitDownlink(long bitsPerSecond, TimeSpan queue)
    {
        var burstBytes = Math.Max(3_000, bitsPerSecond / 8 / 100);
        Tc("qdisc", "replace", "dev", _rootEnd, "root", "tbf",
            "rate", $"{bitsPerSecond / 1000}kbit",
            "burst", burstBytes.ToString(CultureInfo.InvariantCulture),
            "latency", $"{(int)queue.TotalMilliseconds}ms");
    }

    /// <summary>Lifts the limit: the link is as fast as the machine again.</summary>
    public void Unlimit() => Tc("qdisc", "del", "dev", _rootEnd, "root");

    public void Dispose()
    {
        try
        {
            NetworkNamespace.RootIp("link", "del", _rootEnd);
        }
        catch (InvalidOperationException)
        {
            // Never created, or already gone.
        }

        Inside.Dispose();
    }

    private static void Tc(params string[] args) => NetworkNamespace.RootCommand("tc", args);
}
