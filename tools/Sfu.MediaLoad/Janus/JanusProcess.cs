using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace Sfu.MediaLoad.Janus;

/// <summary>
/// A Janus instance of our own: a configuration directory written to a temporary folder (ICE-lite, so that our client
/// stays the controlling agent as it is with our own server; ICE on one given address only, since Janus never gathers
/// loopback; the WebSocket transport on a free loopback port; the VideoRoom plugin; every other plugin, transport,
/// logger and event handler disabled), the process (optionally pinned to one core with taskset), and its deletion.
/// </summary>
sealed class JanusProcess : IAsyncDisposable
{
    private static readonly string[] LibraryFolders =
        ["/usr/lib/x86_64-linux-gnu/janus", "/usr/lib/aarch64-linux-gnu/janus", "/usr/lib/janus", "/opt/janus/lib/janus"];

    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(20);
    private readonly Process _process;
    private readonly DirectoryInfo _directory;
    private bool _keepLog;
    private StreamWriter? _stderr;

    private JanusProcess(Process process, DirectoryInfo directory, Uri webSocket)
    {
        _process = process;
        _directory = directory;
        WebSocketUri = webSocket;
    }

    public Uri WebSocketUri { get; }

    public int ProcessId => _process.Id;

    public string LogPath => Path.Combine(_directory.FullName, "janus.log");

    /// <summary>Writes the configuration, starts Janus and waits until its WebSocket API answers.</summary>
    /// <param name="executable">The janus binary.</param>
    /// <param name="iceAddress">The only address Janus gathers candidates on (not loopback: Janus skips loopback interfaces).</param>
    /// <param name="cpu">Pin Janus to this core (taskset), or null.</param>
    /// <param name="debugLevel">Janus's log level (3: warnings); above 3 the log is kept after the run, with libnice's debug output.</param>
    public static async Task<JanusProcess> StartAsync(string executable, IPAddress iceAddress, int? cpu, int debugLevel, CancellationToken cancel)
    {
        var libraries = LibraryFolders.FirstOrDefault(Directory.Exists)
            ?? throw new InvalidOperationException($"no Janus plugin folder in {string.Join(", ", LibraryFolders)}");
        var directory = Directory.CreateTempSubdirectory("janus-media-load-");
        int port = FreeTcpPort();
        WriteConfiguration(directory.FullName, libraries, iceAddress, port, debugLevel);
        // Its banner goes to stdout whatever -N says, and libnice's debugging to stderr: read, so that they neither mix
        // with the tool's output nor block it; stderr is kept in the log folder when the log is.
        var start = new ProcessStartInfo(cpu is null ? executable : "taskset") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (cpu is { } core)
        {
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(core.ToString(CultureInfo.InvariantCulture));
            start.ArgumentList.Add(executable);
        }

        // -N: no stdout logging (-L writes the log file instead); -o: no colour codes in it.
        foreach (var argument in new[] { "-C", Path.Combine(directory.FullName, "janus.jcfg"), "-F", directory.FullName, "-N", "-o", "-L", Path.Combine(directory.FullName, "janus.log") })
        {
            start.ArgumentList.Add(argument);
        }

        if (debugLevel > 3)
        {
            start.ArgumentList.Add("-D"); // timestamps on every line
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        var janus = new JanusProcess(process, directory, new Uri($"ws://127.0.0.1:{port}/"))
        {
            _keepLog = debugLevel > 3,
            _stderr = debugLevel > 3 ? new StreamWriter(Path.Combine(directory.FullName, "stderr.log")) : null,
        };
        process.ErrorDataReceived += (_, line) => janus.KeepStderr(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await janus.WaitUntilListeningAsync(cancel);
            return janus;
        }
        catch
        {
            await janus.DisposeAsync(keepLog: true);
            throw;
        }
    }

    public ValueTask DisposeAsync() => DisposeAsync(_keepLog);

    private async ValueTask DisposeAsync(bool keepLog)
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
        lock (_process)
        {
            _stderr?.Dispose();
            _stderr = null;
        }

        if (keepLog)
        {
            Console.Error.WriteLine($"janus log kept in {_directory.FullName}");
        }
        else
        {
            _directory.Delete(recursive: true);
        }
    }

    private void KeepStderr(string? line)
    {
        lock (_process)
        {
            if (line is not null) _stderr?.WriteLine(line);
        }
    }

    private async Task WaitUntilListeningAsync(CancellationToken cancel)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(StartLimit.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"janus exited with {_process.ExitCode} while starting");
            }

            using var probe = new ClientWebSocket();
            probe.Options.AddSubProtocol(JanusConnection.SubProtocol);
            try
            {
                await probe.ConnectAsync(WebSocketUri, cancel);
                await probe.CloseAsync(WebSocketCloseStatus.NormalClosure, null, cancel);
                return;
            }
            catch (WebSocketException) when (Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(100, cancel);
            }
        }
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Every library in <paramref name="folder"/> but <paramref name="keep"/>, for a <c>disable</c> list.</summary>
    private static string AllBut(string folder, string? keep) =>
        string.Join(",", Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*.so").Select(Path.GetFileName).Where(name => name != keep)
            : []);

    private static void WriteConfiguration(string directory, string libraries, IPAddress iceAddress, int port, int debugLevel)
    {
        string plugins = Path.Combine(libraries, "plugins");
        string transports = Path.Combine(libraries, "transports");
        string events = Path.Combine(libraries, "events");
        string loggers = Path.Combine(libraries, "loggers");
        File.WriteAllText(Path.Combine(directory, "janus.jcfg"), $$"""
            general: {
                configs_folder = "{{directory}}"
                plugins_folder = "{{plugins}}"
                transports_folder = "{{transports}}"
                events_folder = "{{events}}"
                loggers_folder = "{{loggers}}"
                debug_level = {{debugLevel}}
                session_timeout = 60
            }
            media: {
            }
            nat: {
                ice_lite = true
                ice_tcp = false
                full_trickle = false
                nice_debug = {{(debugLevel > 3 ? "true" : "false")}}
                ice_enforce_list = "{{iceAddress}}"
            }
            plugins: {
                disable = "{{AllBut(plugins, "libjanus_videoroom.so")}}"
            }
            transports: {
                disable = "{{AllBut(transports, "libjanus_websockets.so")}}"
            }
            loggers: {
                disable = "{{AllBut(loggers, null)}}"
            }
            events: {
                broadcast = false
                disable = "{{AllBut(events, null)}}"
            }
            """);
        File.WriteAllText(Path.Combine(directory, "janus.transport.websockets.jcfg"), $$"""
            general: {
                json = "compact"
                ws = true
                ws_port = {{port}}
                ws_ip = "127.0.0.1"
                wss = false
            }
            admin: {
                admin_ws = false
                admin_wss = false
            }
            """);
        // Rooms are created over the API, one per run.
        File.WriteAllText(Path.Combine(directory, "janus.plugin.videoroom.jcfg"), "general: {\n}\n");
    }
}
