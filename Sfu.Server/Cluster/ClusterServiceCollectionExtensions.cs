using System.Text;

namespace Sfu.Server.Cluster;

internal static class ClusterServiceCollectionExtensions
{
    /// <summary>
    /// Joins the cluster when <c>Sfu:Cluster:Redis</c> is set; registers nothing otherwise, so a single node has no
    /// Redis dependency and behaves exactly as before.
    /// </summary>
    public static IServiceCollection AddSfuCluster(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(ClusterOptions.SectionName);
        if (!section.Get<ClusterOptions>()?.IsEnabled ?? true) return services;
        services.AddOptions<ClusterOptions>()
            .Bind(section)
            .Validate(o => o.Secret is { } secret && Encoding.UTF8.GetByteCount(secret) >= ClusterOptions.MinimumSecretBytes,
                $"Sfu:Cluster:Secret must be set, at least {ClusterOptions.MinimumSecretBytes} bytes, and the same on every node: it signs the relay headers between nodes")
            .Validate(o => o.HeartbeatMs > 0 && o.LeaseMs >= 2 * o.HeartbeatMs,
                "Sfu:Cluster:LeaseMs must be at least twice Sfu:Cluster:HeartbeatMs, so that one late heartbeat does not lose a lease")
            .ValidateOnStart();
        services.AddSingleton<ClusterMetrics>();
        services.AddSingleton<ClusterNode>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterNode>());
        services.AddSingleton<RoomPlacement>();
        services.AddSingleton<SignalingRelay>();
        return services;
    }
}
