using System.Net.WebSockets;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Signaling;

/// <summary>A client that closes its socket gets its close frame answered, every time (RFC 6455 5.5.1), not a dropped connection.</summary>
public sealed class CloseHandshakeTests : ServerTest
{
    [TestCase(WebSocketCloseStatus.NormalClosure)]
    [TestCase((WebSocketCloseStatus)3000)]
    public async Task ClientClose_IsEchoedWithItsCode_OnEverySocket(WebSocketCloseStatus status)
    {
        const int sockets = 60;
        var clients = new List<TestClient>();
        for (var i = 0; i < sockets; i++) clients.Add((await Server.JoinAsync($"room-{i % 6}")).Client);
        try
        {
            await Task.WhenAll(clients.Select(c => c.CloseAsync(status)));
            var answered = await Task.WhenAll(clients.Select(c => c.Closed.WaitAsync(TestClient.DefaultWait)));
            Assert.That(answered, Is.All.EqualTo(status), "null means the server dropped the connection without a close frame (1006)");
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }
}
