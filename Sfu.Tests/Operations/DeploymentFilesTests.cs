using System.Text.Json;
using System.Text.RegularExpressions;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Operations;

/// <summary>The deployment files hold together: what one promises, the other provides.</summary>
public sealed class DeploymentFilesTests
{
    [Test]
    public void KubernetesRunAsNonRoot_HasTheImagesNumericUser()
    {
        var manifest = File.ReadAllText(RepositoryFiles.PathOf("deploy", "k8s", "sfu.yaml"));
        var dockerfile = File.ReadAllText(RepositoryFiles.PathOf("Dockerfile"));
        var imageUser = Regex.Match(dockerfile, @"^USER (\d+)(?::\d+)?\s*$", RegexOptions.Multiline);
        var podUser = Regex.Match(manifest, @"runAsUser: (\d+)");

        Assert.Multiple(() =>
        {
            Assert.That(manifest, Does.Contain("runAsNonRoot: true"));
            Assert.That(imageUser.Success, Is.True, "the Dockerfile's USER must be numeric");
            Assert.That(podUser.Success, Is.True, "runAsNonRoot needs a numeric runAsUser");
            Assert.That(podUser.Groups[1].Value, Is.EqualTo(imageUser.Groups[1].Value));
            Assert.That(int.Parse(podUser.Groups[1].Value), Is.GreaterThan(0));
        });
    }

    [Test]
    public void Kubernetes_DeclaresEveryMediaWorkersPort_OnUdpAndTcp_WithTheSameNumbers()
    {
        // Worker i listens on 50000 + i; ICE-TCP on the same numbers unless Sfu:Media:TcpPort says otherwise, which the
        // manifest does not.
        var manifest = File.ReadAllText(RepositoryFiles.PathOf("deploy", "k8s", "sfu.yaml"));
        var workers = int.Parse(Regex.Match(manifest, @"name: Sfu__Media__Workers\s+value: ""(\d+)""").Groups[1].Value);
        var udp = Regex.Matches(manifest, @"name: media(-\d+)?, containerPort: (\d+), protocol: UDP").Select(m => int.Parse(m.Groups[2].Value));
        var tcp = Regex.Matches(manifest, @"name: media-tcp(-\d+)?, containerPort: (\d+), protocol: TCP").Select(m => int.Parse(m.Groups[2].Value));
        var expected = Enumerable.Range(50000, workers);
        Assert.Multiple(() =>
        {
            Assert.That(udp, Is.EquivalentTo(expected));
            Assert.That(tcp, Is.EquivalentTo(expected));
            Assert.That(manifest, Does.Not.Contain("Sfu__Media__TcpPort"));
        });
    }

    [Test]
    public void Dockerfile_ExposesEveryMediaWorkersPort_OnUdpAndTcp()
    {
        var dockerfile = File.ReadAllText(RepositoryFiles.PathOf("Dockerfile"));
        var workers = int.Parse(Regex.Match(dockerfile, @"Sfu__Media__Workers=(\d+)").Groups[1].Value);
        var range = $"50000-{50000 + workers - 1}";
        Assert.Multiple(() =>
        {
            Assert.That(dockerfile, Does.Contain($"EXPOSE {range}/udp"));
            Assert.That(dockerfile, Does.Contain($"EXPOSE {range}/tcp"));
        });
    }

    [Test]
    public async Task GrafanaDashboard_MediaSeries_AreWhatTheServerExposes()
    {
        await using var server = await SfuTestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.HttpBase };
        var exposition = await http.GetStringAsync("/metrics");
        var exposed = Regex.Matches(exposition, @"^# TYPE (\S+) ", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();
        var queried = Expressions().SelectMany(e => Regex.Matches(e, @"\bsfu_media_[a-z_]+")).Select(m => Regex.Replace(m.Value, "_bucket$", "")).Distinct().ToList();

        Assert.That(queried, Does.Contain("sfu_media_transports_by_protocol").And.Contain("sfu_media_datachannel_messages_total"));
        Assert.That(queried.Where(name => !exposed.Contains(name)), Is.Empty, "dashboard series the server does not expose");
    }

    [Test]
    public void GrafanaDashboard_EveryQueryFiltersOnTheInstanceVariable()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(RepositoryFiles.PathOf("deploy", "grafana", "sfu-dashboard.json")));
        var variables = dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray().Select(v => v.GetProperty("name").GetString());
        var expressions = Expressions();
        // Every series a query reads, with its selector.
        var selectors = expressions.SelectMany(e => Regex.Matches(e, @"\b(?:sfu|dotnet)_[a-z_]+(\{[^}]*\})?")).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(variables, Does.Contain("instance"));
            Assert.That(selectors, Is.Not.Empty);
            foreach (var selector in selectors) Assert.That(selector.Groups[1].Value, Does.Contain("instance=~\"$instance\""), selector.Value);
        });
    }

    private static List<string> Expressions()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(RepositoryFiles.PathOf("deploy", "grafana", "sfu-dashboard.json")));
        return dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!)
            .ToList();
    }
}
