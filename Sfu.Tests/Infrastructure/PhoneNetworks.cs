using System.Net;

namespace Sfu.Tests.Infrastructure;

/// <summary>
/// A phone with two networks, for route-change tests: a network namespace (the phone) with interfaces
/// <see cref="WifiInterface"/> and <see cref="CellularInterface"/>, each one end of a veth pair whose other end is in the test's own namespace, where the server runs.
/// The addresses are private and exist only on these veths. The server's address is the root end of wifi; the
/// phone reaches it over wifi until <see cref="MoveToCellular"/> takes wifi away and routes it over 4g, so the
/// phone's source address changes as on a real handover.
/// </summary>
/// <remarks>
/// The server's end of 4g answers from <see cref="ServerAddress"/> too (the route's preferred source), so the
/// phone always talks to one server address, as it would to a real server. Reverse paths match on both sides
/// (replies to the phone leave by the interface its packets came in on), so even strict rp_filter passes and no
/// sysctl is touched.
/// </remarks>
public sealed class PhoneNetworks : IDisposable
{
    /// <summary>
    /// The phone's interface names, as Linux names a wireless LAN and a mobile broadband modem. Browsers rank
    /// networks of one type by name, so wifi also comes first for them, as on a phone.
    /// </summary>
    public const string WifiInterface = "wlan0";

    public const string CellularInterface = "wwan0";

    private readonly string _rootWifi;
    private readonly string _rootCellular;
    private readonly string _wifiNet;
    private readonly string _cellularNet;

    private readonly bool _cellularUpFromStart;

    private PhoneNetworks(NetworkNamespace phone, int id, bool cellularUpFromStart)
    {
        Phone = phone;
        _cellularUpFromStart = cellularUpFromStart;
        // Per-process names and subnets, so a leftover of a killed run cannot clash with this one.
        _rootWifi = $"mvwifi{id % 100_000}";
        _rootCellular = $"mv4g{id % 100_000}";
        var third = 10 + (2 * (id % 100));
        _wifiNet = $"10.213.{third}";
        _cellularNet = $"10.213.{third + 1}";
    }

    public NetworkNamespace Phone { get; }

    /// <summary>Where the server listens, as the phone knows it (the root end of wifi).</summary>
    public IPAddress ServerAddress => IPAddress.Parse($"{_wifiNet}.1");

    /// <summary>The phone's source address while on wifi.</summary>
    public IPAddress WifiAddress => IPAddress.Parse($"{_wifiNet}.2");

    /// <summary>The phone's source address once on 4g.</summary>
    public IPAddress CellularAddress => IPAddress.Parse($"{_cellularNet}.2");

    /// <summary>Builds it all; throws <see cref="NetworkNamespaceUnavailableException"/> when the machine cannot.</summary>
    /// <param name="cellularUpFromStart">
    /// Whether the phone's 4g link is up (with its address) from the start, or comes up only when wifi is lost. A
    /// program that binds no address cannot tell; a browser, which gathers a candidate on every interface it sees,
    /// would otherwise send part of its traffic with the 4g address through wifi before the move.
    /// </param>
    public static PhoneNetworks Create(bool cellularUpFromStart = true)
    {
        var id = Environment.ProcessId;
        var networks = new PhoneNetworks(NetworkNamespace.Create($"mv-phone-{id}"), id, cellularUpFromStart);
        try
        {
            networks.CreateLinks();
        }
        catch (InvalidOperationException e)
        {
            // The namespace exists but veth pairs cannot be made (no veth driver, a restricted sandbox).
            networks.Dispose();
            throw new NetworkNamespaceUnavailableException(e.Message);
        }

        try
        {
            networks.Configure();
        }
        catch
        {
            networks.Dispose();
            throw;
        }

        return networks;
    }

    /// <summary>Wifi is lost (link down, its address gone, as a phone drops it) and the server is reached over 4g.</summary>
    public void MoveToCellular()
    {
        if (!_cellularUpFromStart) BringUpCellular();
        Phone.Ip("link", "set", WifiInterface, "down");
        Phone.Ip("addr", "flush", "dev", WifiInterface);
        Phone.Ip("route", "add", $"{ServerAddress}/32", "via", $"{_cellularNet}.1", "dev", CellularInterface);
    }

    public void Dispose()
    {
        // Deleting the root ends takes the phone's ends with them; then the namespace itself.
        foreach (var link in new[] { _rootWifi, _rootCellular })
        {
            try
            {
                NetworkNamespace.RootIp("link", "del", link);
            }
            catch (InvalidOperationException)
            {
                // Never created, or already gone.
            }
        }

        Phone.Dispose();
    }

    private void CreateLinks()
    {
        NetworkNamespace.RootIp("link", "add", _rootWifi, "type", "veth", "peer", "name", WifiInterface, "netns", Phone.Name);
        NetworkNamespace.RootIp("link", "add", _rootCellular, "type", "veth", "peer", "name", CellularInterface, "netns", Phone.Name);
    }

    private void Configure()
    {
        NetworkNamespace.RootIp("addr", "add", $"{_wifiNet}.1/24", "dev", _rootWifi);
        NetworkNamespace.RootIp("addr", "add", $"{_cellularNet}.1/24", "dev", _rootCellular);
        NetworkNamespace.RootIp("link", "set", _rootWifi, "up");
        NetworkNamespace.RootIp("link", "set", _rootCellular, "up");
        NetworkNamespace.RootIp("route", "change", $"{_cellularNet}.0/24", "dev", _rootCellular, "src", ServerAddress.ToString());
        Phone.Ip("addr", "add", $"{WifiAddress}/24", "dev", WifiInterface);
        Phone.Ip("link", "set", WifiInterface, "up");
        if (_cellularUpFromStart) BringUpCellular();
    }

    private void BringUpCellular()
    {
        Phone.Ip("addr", "add", $"{CellularAddress}/24", "dev", CellularInterface);
        Phone.Ip("link", "set", CellularInterface, "up");
        // As a phone binds a socket to the network it belongs to: what is sent from the 4g address leaves by 4g,
        // whichever link the main route prefers.
        Phone.Ip("rule", "add", "from", CellularAddress.ToString(), "table", CellularTable);
        Phone.Ip("route", "add", $"{ServerAddress}/32", "via", $"{_cellularNet}.1", "dev", CellularInterface, "table", CellularTable);
    }

    private const string CellularTable = "100";
}
