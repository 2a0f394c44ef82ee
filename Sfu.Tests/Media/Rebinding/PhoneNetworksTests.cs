using System.Net;
using System.Net.NetworkInformation;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Rebinding;

/// <summary>
/// The phone fixture of the route-change tests on a shared machine: phones made at once (by one test host or several)
/// never share a namespace, a link or a subnet, and what a crashed run left behind is swept by the next phone.
/// Skipped, with the reason, where the machine cannot create namespaces.
/// </summary>
[Category("Media")]
[NonParallelizable]
public sealed class PhoneNetworksTests
{
    [Test]
    public void TwoPhonesAtOnce_HaveTheirOwnNamespacesAndSubnets_AndLeaveNothingBehind()
    {
        string[] namespaces;
        IPAddress[] serverAddresses;
        using (var first = CreateOrIgnore())
        using (var second = PhoneNetworks.Create())
        {
            namespaces = [first.Phone.Name, second.Phone.Name];
            serverAddresses = [first.ServerAddress, second.ServerAddress];
            Assert.Multiple(() =>
            {
                Assert.That(namespaces[1], Is.Not.EqualTo(namespaces[0]));
                Assert.That(serverAddresses[1], Is.Not.EqualTo(serverAddresses[0]));
                Assert.That(second.CellularAddress, Is.Not.EqualTo(first.CellularAddress));
                Assert.That(namespaces.Select(NetworkNamespace.Exists), Is.All.True, "the second phone's sweep kept the first, whose owner runs");
                Assert.That(serverAddresses.Select(HeldByThisMachine), Is.All.True);
            });
        }

        Assert.Multiple(() =>
        {
            Assert.That(namespaces.Select(NetworkNamespace.Exists), Is.All.False, "namespaces deleted");
            Assert.That(serverAddresses.Select(HeldByThisMachine), Is.All.False, "root ends of the links deleted");
        });
    }

    [Test]
    public void NamespacesOfProcessesThatAreGone_AreDeletedByTheNextPhone()
    {
        // pid_max itself is never a process id; our own id with another start time is a process that reused it.
        var noSuchProcess = int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        string[] leftovers =
        [
            $"{PhoneNetworks.NamespacePrefix}-{noSuchProcess}-12345-1",
            $"{PhoneNetworks.NamespacePrefix}-{Environment.ProcessId}-1-1",
            $"{PhoneNetworks.NamespacePrefix}-{noSuchProcess}", // named as before the start time was part of the name
        ];
        var made = new List<NetworkNamespace>();
        try
        {
            foreach (var name in leftovers)
            {
                try
                {
                    made.Add(NetworkNamespace.Create(name));
                }
                catch (NetworkNamespaceUnavailableException e)
                {
                    Assert.Ignore($"network namespaces unavailable here: {e.Message}");
                }
            }

            using var phone = PhoneNetworks.Create();
            Assert.Multiple(() =>
            {
                Assert.That(leftovers.Where(NetworkNamespace.Exists), Is.Empty, "leftovers deleted");
                Assert.That(NetworkNamespace.Exists(phone.Phone.Name), Is.True);
            });
        }
        finally
        {
            foreach (var leftover in made) leftover.Dispose();
        }
    }

    private static PhoneNetworks CreateOrIgnore()
    {
        try
        {
            return PhoneNetworks.Create();
        }
        catch (NetworkNamespaceUnavailableException e)
        {
            Assert.Ignore($"network namespaces unavailable here: {e.Message}");
            throw;
        }
    }

    private static bool HeldByThisMachine(IPAddress address) =>
        NetworkInterface.GetAllNetworkInterfaces().SelectMany(i => i.GetIPProperties().UnicastAddresses).Any(a => a.Address.Equals(address));
}
