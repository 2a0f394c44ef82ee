using Prometheus;

namespace Sfu.Media.Diagnostics;

/// <summary>How the server's metrics are created: into one registry per server, without exemplars.</summary>
public static class MetricFactories
{
    /// <summary>
    /// A factory for <paramref name="registry"/>. Exemplars are off: nothing here is traced, and looking for a
    /// trace to attach would cost time on every increment.
    /// </summary>
    public static IMetricFactory For(CollectorRegistry registry)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        return factory;
    }
}
