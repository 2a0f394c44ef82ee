using Sfu.Server.Cluster;
using Sfu.Server.WebSockets;
using Sfu.Signaling.Connections;

namespace Sfu.Server.Hosting;

/// <summary>
/// On SIGTERM: leave the cluster (if any) and release this node's rooms, stop accepting joins, close every signaling
/// socket with 1001 (clients reconnect, possibly to another server), and give the close handshakes a moment. This runs
/// in <see cref="StoppingAsync"/>, before any hosted service (Kestrel included) stops, so the close frames still go out;
/// leaving the cluster first means the clients' re-joins already find their rooms free for another node.
/// </summary>
internal sealed class GracefulShutdown(SignalingService signaling, WebSocketGateway gateway, ClusterNode? cluster = null) : IHostedLifecycleService
{
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LeaveWait = TimeSpan.FromSeconds(3);

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        if (cluster is not null)
        {
            await WithinAsync(LeaveWait, cancellationToken, _ => cluster.LeaveAsync()).ConfigureAwait(false);
        }
        signaling.BeginShutdown();
        await WithinAsync(CloseWait, cancellationToken, gateway.CloseAllAsync).ConfigureAwait(false);
    }

    /// <summary>Waits for <paramref name="step"/> at most <paramref name="limit"/>: shutdown goes on either way.</summary>
    private static async Task WithinAsync(TimeSpan limit, CancellationToken hostToken, Func<CancellationToken, Task> step)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(hostToken);
        timeout.CancelAfter(limit);
        try
        {
            await step(timeout.Token).WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
