using System.Net;

namespace Sfu.Tests.Infrastructure;

/// <summary>
/// A network that blocks UDP, as hotel, corporate and campus networks do: a network namespace joined to the test's own
/// by a veth pair, with an nftables table inside it that can drop every UDP datagram in and out (TCP still passes). The
/// server listens on the root end; a browser runs inside (<c>BrowserFixture.LaunchAsync(Inside)</c>). Needs root;
/// names start with <c>reach</c>, and everything is deleted on dispose.
/// </summary>
public sealed class UdpBlockingNetwork : IDisposable
{
    private const string Table = "reach_udp_block";

    private readonly string _rootEnd;
    private readonly string _subnet;

    private UdpBlockingNetwork(NetworkNamespace inside, int id)
    {
        Inside = inside;
        _rootEnd = $"reach{id % 100_000}";
        _subnet = $"10.219.{10 + id % 200}";
    }

    public NetworkNamespace Inside { get; }

    /// <summary>The root end's address: where the server (and coturn) listen for the namespace.</summary>
    public IPAddress ServerAddress => IPAddress.Parse($"{_subnet}.1");

    /// <summary>The address the namespace's client has.</summary>
    public IPAddress ClientAddress => IPAddress.Parse($"{_subnet}.2");

    public static UdpBlockingNetwork Create()
    {
        if (!OperatingSystem.IsLinux()) throw new NetworkNamespaceUnavailableException("not Linux");
        var id = Environment.ProcessId;
        var network = new UdpBlockingNetwork(NetworkNamespace.Create($"reach-udpblock-{id}"), id);
        try
        {
            NetworkNamespace.RootIp("link", "add", network._rootEnd, "type", "veth", "peer", "name", "uplink", "netns", network.Inside.Name);
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
            network.Inside.Ip("addr", "add", $"{network.ClientAddress}/24", "dev", "uplink");
            network.Inside.Ip("link", "set", "uplink", "up");
            network.Nft($"add table inet {Table}");
            network.Nft($"add chain inet {Table} output {{ type filter hook output priority 0 ; policy accept ; }}");
            network.Nft($"add chain inet {Table} input {{ type filter hook input priority 0 ; policy accept ; }}");
        }
        catch
        {
            network.Dispose();
            throw;
        }
        return network;
    }

    /// <summary>From now on every UDP datagram leaving the namespace is dropped, and every one arriving, as a firewall that blocks UDP does.</summary>
    public void BlockUdp()
    {
        Nft($"add rule inet {Table} output meta l4proto udp drop");
        Nft($"add rule inet {Table} input meta l4proto udp drop");
    }

    /// <summary>UDP passes again (the rules are flushed).</summary>
    public void AllowUdp()
    {
        Nft($"flush chain inet {Table} output");
        Nft($"flush chain inet {Table} input");
    }

    /// <summary>Runs <c>nft</c> inside the namespace (through <c>ip netns exec</c>).</summary>
    private void Nft(string command) =>
        NetworkNamespace.RootIp(["netns", "exec", Inside.Name, "nft", .. command.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);

    public void Dispose()
    {
        // The veth pair and the nft table die with the namespace.
        Inside.Dispose();
    }
}
