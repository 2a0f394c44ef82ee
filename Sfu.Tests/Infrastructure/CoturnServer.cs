using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sfu.Tests.Infrastructure;

/// <summary>
/// Debian's coturn (<c>/usr/bin/turnserver</c>) run by a test: its own temporary config, TURN REST API credentials
/// (<c>use-auth-secret</c>) with the given secret, listening on free UDP and TCP ports of one address, relaying from
/// that address. Stopped and its files deleted on dispose.
/// </summary>
public sealed class CoturnServer : IDisposable
{
    public const string Executable = "/usr/bin/turnserver";

    private readonly Process _process;
    private readonly string _directory;

    private CoturnServer(Process process, string directory, IPAddress address, int port)
    {
        _process = process;
        _directory = directory;
        Address = address;
        Port = port;
    }

    public IPAddress Address { get; }

    public int Port { get; }

    /// <summary>The TURN URL for clients over TCP (what a network that blocks UDP leaves).</summary>
    public string TcpUrl => $"turn:{Address}:{Port}?transport=tcp";

    /// <summary>Starts coturn and waits until its TCP listener accepts; fails the test when coturn is missing, since CI installs it.</summary>
    public static async Task<CoturnServer> StartAsync(IPAddress address, string secret)
    {
        if (!File.Exists(Executable)) Assert.Fail($"{Executable} is missing: scripts/install-deps.sh installs coturn");
        var port = FreePort(address);
        var directory = Directory.CreateTempSubdirectory("sfu-coturn-").FullName;
        var relayPorts = 20000 + Random.Shared.Next(0, 400) * 100;
        var config = Path.Combine(directory, "turnserver.conf");
        await File.WriteAllLinesAsync(config,
        [
            $"listening-ip={address}",
            $"relay-ip={address}",
            $"listening-port={port}",
            $"min-port={relayPorts}",
            $"max-port={relayPorts + 99}",
            "use-auth-secret",
            $"static-auth-secret={secret}",
            "realm=sfu.test",
            "fingerprint",
            "no-tls",
            "no-dtls",
            "no-cli",
            "no-multicast-peers",
            // Tests run the SFU on loopback or private test addresses, which coturn refuses as peers by default.
            "allow-loopback-peers",
            $"pidfile={Path.Combine(directory, "turnserver.pid")}",
            $"log-file={Path.Combine(directory, "turnserver.log")}",
            "simple-log",
        ]);
        var start = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(config);
        var process = Process.Start(start) ?? throw new InvalidOperationException("turnserver did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new CoturnServer(process, directory, address, port);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(address, port);
                return server;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(50);
            }
            catch (SocketException)
            {
                var log = server.Log();
                server.Dispose();
                throw new InvalidOperationException($"coturn did not listen on {address}:{port}: {log}");
            }
        }
    }

    /// <summary>coturn's log so far, for failure messages.</summary>
    public string Log()
    {
        var files = Directory.GetFiles(_directory, "turnserver*.log");
        return string.Join('\n', files.Select(File.ReadAllText));
    }

    private static int FreePort(IPAddress address)
    {
        // A port free on both protocols, since coturn listens on UDP and TCP with the same number.
        for (var attempt = 0; ; attempt++)
        {
            using var tcp = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(address, 0));
            var port = ((IPEndPoint)tcp.LocalEndPoint!).Port;
            try
            {
                using var udp = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                udp.Bind(new IPEndPoint(address, port));
                return port;
            }
            catch (SocketException) when (attempt < 20)
            {
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        try { Directory.Delete(_directory, recursive: true); }
        catch (IOException) { }
    }
}
