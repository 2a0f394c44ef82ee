using System.Reflection;
using Prometheus;
using Sfu.Media.Diagnostics;

namespace Sfu.Server.Metrics;

/// <summary>
/// <c>sfu_build_info{version, commit, runtime} 1</c>: which build a server runs, to join against its other series.
/// The commit is the one the SDK records in the informational version ("1.0.0+commit") when built from a git checkout.
/// </summary>
internal static class BuildInfo
{
    public static void Register(CollectorRegistry registry)
    {
        var informational = typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        var version = plus < 0 ? informational : informational[..plus];
        var commit = plus < 0 ? "unknown" : informational[(plus + 1)..];
        MetricFactories.For(registry)
            .CreateGauge("sfu_build_info", "The server's version and the commit it was built from; always 1.", ["version", "commit", "runtime"])
            .WithLabels(version, commit, Environment.Version.ToString())
            .Set(1);
    }
}
