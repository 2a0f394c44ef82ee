using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Sfu.Signaling;
using Sfu.Signaling.Connections;
using Sfu.Signaling.Sessions;

namespace Sfu.Tests.Infrastructure;

/// <summary>
/// The real signaling core (<see cref="SignalingService"/> from its own service registration) with one joined session
/// on an in-memory connection that keeps nothing. For measuring what the core itself costs per message, without
/// Kestrel's WebSocket (which the load tool measures): the ping allocation test, and SignalingBenchmarks, which
/// compiles this file in. The per-socket rate limit is lifted, so that one connection may send as fast as it can.
/// </summary>
public sealed class InMemorySignaling : IDisposable
{
    private readonly ServiceProvider _services;

    private InMemorySignaling(ServiceProvider services, SignalingConnection connection)
    {
        _services = services;
        Connection = connection;
    }

    /// <summary>The joined socket's protocol state; feed it messages with <see cref="SignalingConnection.OnTextMessageAsync"/>.</summary>
    public SignalingConnection Connection { get; }

    /// <summary>Joins room <paramref name="room"/> with request id 0, so the session's seq 1 is the join response.</summary>
    public static async Task<InMemorySignaling> JoinAsync(string room)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Sfu:Signaling:MessagesPerSecondPerSocket"] = "1000000000" })
            .Build();
        var services = new ServiceCollection().AddLogging().AddSfuSignaling(configuration, TimeProvider.System).BuildServiceProvider();
        var connection = services.GetRequiredService<SignalingService>().Accept(new DiscardingConnection(), "127.0.0.1");
        await connection.OnTextMessageAsync(Encoding.UTF8.GetBytes($"{{\"id\":0,\"type\":\"join\",\"room\":\"{room}\",\"autoSubscribe\":false}}"));
        if (connection.Session is null)
        {
            await services.DisposeAsync();
            throw new InvalidOperationException("the in-memory join was refused");
        }
        return new InMemorySignaling(services, connection);
    }

    public void Dispose() => _services.Dispose();

    private sealed class DiscardingConnection : ISessionConnection
    {
        public string Id => "in-memory";
        public string RemoteEndpoint => "127.0.0.1:1";
        public bool TrySend(byte[] message) => true;
        public void SendReplay(IReadOnlyList<byte[]> messages) { }
        public void Close(int code, string reason) { }
        public void Supersede() { }
        public void Abort() { }
    }
}
