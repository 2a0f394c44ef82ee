using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Interop.Aiortc;

/// <summary>
/// An aiortc peer (Debian's python3-aiortc) in its own process, speaking JSON lines on stdin/stdout with the
/// test, which relays its SDP to and from the server's signaling.
/// </summary>
public sealed class AiortcPeer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<JsonObject> _messages = Channel.CreateUnbounded<JsonObject>();
    private readonly List<string> _errors = [];
    private JsonObject? _latestCounts;

    private AiortcPeer(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { Length: > 0 } line || JsonNode.Parse(line) is not JsonObject message) return;
            if (message.ContainsKey("video_frames")) Volatile.Write(ref _latestCounts, message);
            else _messages.Writer.TryWrite(message);
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) lock (_errors) _errors.Add(e.Data);
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public const string Python = "/usr/bin/python3";

    /// <summary>Starts the peer; fails the test (not skips it) when aiortc is missing, since CI installs it.</summary>
    public static AiortcPeer Start(string mode, TimeSpan limit)
    {
        var script = RepositoryFiles.PathOf("Sfu.Tests", "Interop", "Aiortc", "aiortc_peer.py");
        var start = new ProcessStartInfo(Python)
        {
            ArgumentList = { script, mode, limit.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        return new AiortcPeer(Process.Start(start) ?? throw new InvalidOperationException("python3 did not start"));
    }

    public async Task SendAsync(object message)
    {
        await _process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(message));
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>The next message that has <paramref name="field"/>.</summary>
    public async Task<JsonObject> ReceiveAsync(string field, TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        try
        {
            while (true)
            {
                var message = await _messages.Reader.ReadAsync(timeout.Token);
                if (message.ContainsKey(field)) return message;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"aiortc sent no '{field}' within {wait}; its stderr: {Errors()}");
        }
    }

    /// <summary>The subscriber's most recent frame counts (it reports twice a second), or null before the first report.</summary>
    public (int Video, int Audio)? LatestCounts =>
        Volatile.Read(ref _latestCounts) is { } counts ? ((int)counts["video_frames"]!, (int)counts["audio_frames"]!) : null;

    public string Errors()
    {
        lock (_errors) return string.Join("\n", _errors.TakeLast(30));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(3000)) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
        await Task.CompletedTask;
    }
}
