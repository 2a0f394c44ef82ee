using Sfu.Server.Cluster;
using Sfu.Server.WebSockets;
using Sfu.Signaling.Connections;

namespace Sfu.Server.Hosting;

/// <summary>
/// On SIGTERM: leave the cluster (if any) and release this node's rooms, stop accepting joins, close every signaling
/// socket with 1001 (clients reconnect, possibly to another server), and give the close handshakes a moment before
/// Kestrel stops. Leaving first means the clients' re-joins already find their rooms free for another node.
/// </summary>
internal sealed class GracefulShutdown(IHostApplicationLifetime lifetime, SignalingService signaling, WebSocketGateway gateway, ClusterNode? cluster = null) : IHostedService
{
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LeaveWait = TimeSpan.FromSeconds(3);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(() =>
        {
            cluster?.LeaveAsync().Wait(LeaveWait);
            signaling.BeginShutdown();
            gateway.CloseAll();
            var deadline = DateTime.UtcNow + CloseWait;
            while (gateway.OpenCount > 0 && DateTime.UtcNow < deadline) Thread.Sleep(20);
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
