using Sfu.Server.WebSockets;
using Sfu.Signaling.Connections;

namespace Sfu.Server.Hosting;

/// <summary>
/// On SIGTERM: stop accepting joins, close every signaling socket with 1001 (clients reconnect, possibly to
/// another server), and give the close handshakes a moment before Kestrel stops.
/// </summary>
internal sealed class GracefulShutdown(IHostApplicationLifetime lifetime, SignalingService signaling, WebSocketGateway gateway) : IHostedService
{
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(5);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(() =>
        {
            signaling.BeginShutdown();
            gateway.CloseAll();
            var deadline = DateTime.UtcNow + CloseWait;
            while (gateway.OpenCount > 0 && DateTime.UtcNow < deadline) Thread.Sleep(20);
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
