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

    /// <summary>The prefix of the phones' namespaces (<see cref="NetworkNamespace.CreateOwned"/> adds the owner).</summary>
    public const string NamespacePrefix = "mv-phone";

    /// <summary>Phones that can exist at once on this machine: each takes two /24s of 10.213.0.0/16 from 10.213.10.0.</summary>
    private const int Slots = 100;

    private readonly bool _cellularUpFromStart;
    private int _slot = -1;

    private PhoneNetworks(NetworkNamespace phone, bool cellularUpFromStart)
    {
        Phone = phone;
        _cellularUpFromStart = cellularUpFromStart;
    }

    public NetworkNamespace Phone { get; }

    // Root ends and subnets are a slot's, the first free one (see CreateLinks): unique among the phones alive on the
    // machine, whichever test host made them, and never a crashed run's (its namespace, with its veths, is gone first).
    private string RootWifi => $"mvwifi{_slot}";

    private string RootCellular => $"mv4g{_slot}";

    private string WifiNet => $"10.213.{10 + (2 * _slot)}";

    private string CellularNet => $"10.213.{11 + (2 * _slot)}";

    /// <summary>Where the server listens, as the phone knows it (the root end of wifi).</summary>
    public IPAddress ServerAddress => IPAddress.Parse($"{WifiNet}.1");

    /// <summary>The phone's source address while on wifi.</summary>
    public IPAddress WifiAddress => IPAddress.Parse($"{WifiNet}.2");

    /// <summary>The phone's source address once on 4g.</summary>
    public IPAddress CellularAddress => IPAddress.Parse($"{CellularNet}.2");

    /// <summary>Builds it all; throws <see cref="NetworkNamespaceUnavailableException"/> when the machine cannot.</summary>
    /// <param name="cellularUpFromStart">
    /// Whether the phone's 4g link is up (with its address) from the start, or comes up only when wifi is lost. A
    /// program that binds no address cannot tell; a browser, which gathers a candidate on every interface it sees,
    /// would otherwise send part of its traffic with the 4g address through wifi before the move.
    /// </param>
    public static PhoneNetworks Create(bool cellularUpFromStart = true)
    {
        var networks = new PhoneNetworks(NetworkNamespace.CreateOwned(NamespacePrefix), cellularUpFromStart);
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
        Phone.Ip("route", "add", $"{ServerAddress}/32", "via", $"{CellularNet}.1", "dev", CellularInterface);
    }

    public void Dispose()
    {
        // Deleting the root ends takes the phone's ends with them (the namespace itself may outlive its deletion a
        // little, while a socket made inside is still open); then the namespace.
        foreach (var link in _slot < 0 ? [] : new[] { RootWifi, RootCellular })
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

    /// <summary>
    /// Takes the first free slot: creating its wifi link fails with "File exists" while another phone holds it, so the
    /// kernel, not a lock file, decides between test hosts that start at once.
    /// </summary>
    private void CreateLinks()
    {
        for (var slot = 0; slot < Slots; slot++)
        {
            try
            {
                NetworkNamespace.RootIp("link", "add", $"mvwifi{slot}", "type", "veth", "peer", "name", WifiInterface, "netns", Phone.Name);
            }
            catch (InvalidOperationException e) when (e.Message.Contains("File exists", StringComparison.Ordinal))
            {
                continue;
            }
            _slot = slot;
            NetworkNamespace.RootIp("link", "add", RootCellular, "type", "veth", "peer", "name", CellularInterface, "netns", Phone.Name);
            return;
        }
        throw new InvalidOperationException($"all {Slots} phone slots are taken (links mvwifi0 to mvwifi{Slots - 1} exist)");
    }

    private void Configure()
    {
        NetworkNamespace.RootIp("addr", "add", $"{WifiNet}.1/24", "dev", RootWifi);
        NetworkNamespace.RootIp("addr", "add", $"{CellularNet}.1/24", "dev", RootCellular);
        NetworkNamespace.RootIp("link", "set", RootWifi, "up");
        NetworkNamespace.RootIp("link", "set", RootCellular, "up");
        NetworkNamespace.RootIp("route", "change", $"{CellularNet}.0/24", "dev", RootCellular, "src", ServerAddress.ToString());
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
        Phone.Ip("route", "add", $"{ServerAddress}/32", "via", $"{CellularNet}.1", "dev", CellularInterface, "table", CellularTable);
    }

    private const string CellularTable = "100";
}
