using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sfu.Tests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> (Debian's, installed by scripts/install-deps.sh) on a free loopback port, without
/// persistence, killed when disposed (or earlier, by a test that takes Redis away).
/// </summary>
public sealed class RedisServer : IDisposable
{
    private const string Executable = "/usr/bin/redis-server";
    private readonly ChildProcess _process;

    private RedisServer(ChildProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string of this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        if (!File.Exists(Executable)) Assert.Fail($"{Executable} is missing: run scripts/install-deps.sh");
        // The port is free when asked for; another process could take it before redis-server binds it, so retry.
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort();
            var start = new ProcessStartInfo(Executable);
            foreach (var arg in new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" }) start.ArgumentList.Add(arg);
            var process = new ChildProcess(start);
            if (await AnswersPingAsync(port, process)) return new RedisServer(process, port);
            process.Dispose();
            if (attempt == 2) Assert.Fail("redis-server did not start");
        }
    }

    /// <summary>Takes Redis away at once (SIGKILL), as a crashed or partitioned Redis.</summary>
    public void Kill() => _process.Kill();

    public void Dispose() => _process.Dispose();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<bool> AnswersPingAsync(int port, ChildProcess process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer);
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal)) return true;
            }
            catch (SocketException)
            {
            }
            await Task.Delay(50);
        }
        return false;
    }
}
