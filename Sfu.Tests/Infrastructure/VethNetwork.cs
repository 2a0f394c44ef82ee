using System.Globalization;
using System.Net;

namespace Sfu.Tests.Infrastructure;

/// <summary>
/// A second machine for a browser: a network namespace joined to the test's own by one veth pair, the server on
/// the root end and the client inside. What the link does is up to the test: <see cref="LimitDownlink"/> puts a
/// token bucket (<c>tc qdisc ... tbf</c>) on the root end, so what the server sends in leaves at that rate, like a
/// subscriber's downlink that shrinks; <see cref="BlockUdp"/> drops every UDP datagram in and out of the namespace
/// with nftables (TCP still passes), like a hotel or corporate network; <see cref="LoseOutgoingRtp"/> drops some of
/// what a publisher inside sends, like a lossy uplink. Needs root. Names carry the caller's prefix
/// and the process id, so they clash with nothing else on the machine; <see cref="Dispose"/> deletes them.
/// </summary>
public sealed class VethNetwork : IDisposable
{
    private const string InsideEnd = "uplink";
    private const string NftTable = "veth_udp_block";
    private const string LossTable = "veth_uplink_loss";

    private readonly string _rootEnd;
    private readonly string _subnet;
    private bool _hasNftTable;

    private VethNetwork(NetworkNamespace inside, string rootEnd, string subnet)
    {
        Inside = inside;
        _rootEnd = rootEnd;
        _subnet = subnet;
    }

    public NetworkNamespace Inside { get; }

    /// <summary>The root end's address: where the server (and coturn) listen for the namespace.</summary>
    public IPAddress ServerAddress => IPAddress.Parse($"{_subnet}.1");

    /// <summary>The namespace's address.</summary>
    public IPAddress ClientAddress => IPAddress.Parse($"{_subnet}.2");

    /// <summary>
    /// Builds it; throws <see cref="NetworkNamespaceUnavailableException"/> when the machine cannot.
    /// </summary>
    /// <param name="prefix">Starts the namespace's and the root end's names (a few letters: an interface name has at most 15).</param>
    /// <param name="subnetOctet">The second octet of the link's private /24 (10.x.y.0), one per kind of test.</param>
    public static VethNetwork Create(string prefix, int subnetOctet)
    {
        if (!OperatingSystem.IsLinux()) throw new NetworkNamespaceUnavailableException("not Linux");
        var id = Environment.ProcessId;
        var network = new VethNetwork(NetworkNamespace.Create($"{prefix}-{id}"), $"{prefix}{id % 100_000}", $"10.{subnetOctet}.{10 + (id % 200)}");
        try
        {
            NetworkNamespace.RootIp("link", "add", network._rootEnd, "type", "veth", "peer", "name", InsideEnd, "netns", network.Inside.Name);
        }
        catch (InvalidOperationException e)
        {
            network.Dispose();
            throw new NetworkNamespaceUnavailableException(e.Message);
        }

        try
        {
            NetworkNamespace.RootIp("addr", "add", $"{network.ServerAddress}/24", "dev", network._rootEnd);
            NetworkNamespace.RootIp("link", "set", network._rootEnd, "up");
            network.Inside.Ip("addr", "add", $"{network.ClientAddress}/24", "dev", InsideEnd);
            network.Inside.Ip("link", "set", InsideEnd, "up");
        }
        catch
        {
            network.Dispose();
            throw;
        }

        return network;
    }

    /// <summary>
    /// From now on the namespace receives at most <paramref name="bitsPerSecond"/>: a token bucket with a burst of
    /// 10 ms at that rate (at least two full-size packets) and a queue of at most <paramref name="queue"/>'s worth,
    /// beyond which packets are dropped, as on a congested access link. Throws when <c>tc</c> (iproute2) is missing.
    /// </summary>
    public void LimitDownlink(long bitsPerSecond, TimeSpan queue)
    {
        var burstBytes = Math.Max(3_000, bitsPerSecond / 8 / 100);
        NetworkNamespace.RootCommand("tc", "qdisc", "replace", "dev", _rootEnd, "root", "tbf",
            "rate", $"{bitsPerSecond / 1000}kbit",
            "burst", burstBytes.ToString(CultureInfo.InvariantCulture),
            "latency", $"{(int)queue.TotalMilliseconds}ms");
    }

    /// <summary>Lifts the limit: the link is as fast as the machine again.</summary>
    public void Unlimit() => NetworkNamespace.RootCommand("tc", "qdisc", "del", "dev", _rootEnd, "root");

    /// <summary>From now on every UDP datagram leaving the namespace is dropped, and every one arriving, as a firewall that blocks UDP does.</summary>
    public void BlockUdp()
    {
        if (!_hasNftTable)
        {
            Nft($"add table inet {NftTable}");
            Nft($"add chain inet {NftTable} output {{ type filter hook output priority 0 ; policy accept ; }}");
            Nft($"add chain inet {NftTable} input {{ type filter hook input priority 0 ; policy accept ; }}");
            _hasNftTable = true;
        }
        Nft($"add rule inet {NftTable} output meta l4proto udp drop");
        Nft($"add rule inet {NftTable} input meta l4proto udp drop");
    }

    /// <summary>
    /// From now on <paramref name="percent"/> % of the RTP packets of <paramref name="payloadType"/> leaving the namespace
    /// are dropped at random, as a lossy uplink drops them; other payload types (RTX among them), RTCP, STUN and DTLS pass.
    /// </summary>
    public void LoseOutgoingRtp(int payloadType, int percent)
    {
        // On the device's egress, as a lossy link would: a drop in the output hook would fail the sender's sendmsg instead.
        Nft($"add table netdev {LossTable}");
        Nft($"add chain netdev {LossTable} egress {{ type filter hook egress device {InsideEnd} priority 0 ; policy accept ; }}");
        // UDP payload bits 0-1: RTP version 2; bits 9-15: the payload type (RTCP's 200-206 are 72-78 there, no clash with dynamic types).
        Nft($"add rule netdev {LossTable} egress meta l4proto udp @th,64,2 2 @th,73,7 {payloadType} numgen random mod 100 < {percent} drop");
    }

    /// <summary>UDP passes again (the rules are flushed).</summary>
    public void AllowUdp()
    {
        if (!_hasNftTable) return;
        Nft($"flush chain inet {NftTable} output");
        Nft($"flush chain inet {NftTable} input");
    }

    /// <summary>Runs <c>nft</c> inside the namespace (through <c>ip netns exec</c>).</summary>
    private void Nft(string command) =>
        NetworkNamespace.RootIp(["netns", "exec", Inside.Name, "nft", .. command.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);

    /// <summary>Deletes the namespace; the veth pair, its qdisc and the nft table go with it.</summary>
    public void Dispose() => Inside.Dispose();
}
