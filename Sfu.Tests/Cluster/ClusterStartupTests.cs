using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Sfu.Server.Cluster;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Cluster;

/// <summary>What a node does with its cluster settings at start-up: none means a single node, bad ones a clear refusal.</summary>
[NonParallelizable]
public sealed class ClusterStartupTests
{
    [Test]
    public async Task NoRedisConfigured_TheServerIsOneNode_WithNoClusterPartsOrSeries()
    {
        await using var server = await SfuTestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.HttpBase };
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Multiple(() =>
        {
            Assert.That(server.Services.GetService<ClusterNode>(), Is.Null);
            Assert.That(metrics, Does.Not.Contain("sfu_cluster_"));
        });
    }

    [Test]
    public void UnreachableRedis_RefusesToStart_NamingTheSettingAndTheAddress()
    {
        var port = ClosedPort();
        var error = Assert.CatchAsync(() => SfuTestServer.StartAsync(null,
            $"Sfu:Cluster:Redis=127.0.0.1:{port}", $"Sfu:Cluster:Secret={ClusterTestNodes.Secret}", "Sfu:Cluster:ConnectTimeoutMs=500"));
        Assert.That(error!.Message, Does.Contain("Sfu:Cluster:Redis").And.Contain($"127.0.0.1:{port}").And.Contain("cannot reach Redis"));
    }

    [Test]
    public void MissingSecret_RefusesToStart_NamingTheSetting()
    {
        var error = Assert.CatchAsync(() => SfuTestServer.StartAsync(null, "Sfu:Cluster:Redis=127.0.0.1:1"));
        Assert.That(error!.Message, Does.Contain("Sfu:Cluster:Secret"));
    }

    [Test]
    public void LeaseNoLongerThanTwoHeartbeats_RefusesToStart()
    {
        var error = Assert.CatchAsync(() => SfuTestServer.StartAsync(null,
            "Sfu:Cluster:Redis=127.0.0.1:1", $"Sfu:Cluster:Secret={ClusterTestNodes.Secret}", "Sfu:Cluster:LeaseMs=1000", "Sfu:Cluster:HeartbeatMs=600"));
        Assert.That(error!.Message, Does.Contain("Sfu:Cluster:LeaseMs"));
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
