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
    public void GrafanaDashboard_EveryQueryFiltersOnTheInstanceVariable()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(RepositoryFiles.PathOf("deploy", "grafana", "sfu-dashboard.json")));
        var variables = dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray().Select(v => v.GetProperty("name").GetString());
        var expressions = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!)
            .ToList();
        // Every series a query reads, with its selector.
        var selectors = expressions.SelectMany(e => Regex.Matches(e, @"\b(?:sfu|dotnet)_[a-z_]+(\{[^}]*\})?")).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(variables, Does.Contain("instance"));
            Assert.That(selectors, Is.Not.Empty);
            foreach (var selector in selectors) Assert.That(selector.Groups[1].Value, Does.Contain("instance=~\"$instance\""), selector.Value);
        });
    }
}
