using System.Diagnostics;

namespace Sfu.Tests.Infrastructure;

/// <summary>
/// A process a test starts and owns (a redis-server, a server node): its output read (so that it never blocks on a
/// full pipe) and passed to <paramref name="onOutput"/>, and SIGKILL when the test is done with it or takes it away.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;

    public ChildProcess(ProcessStartInfo start, Action<string?>? onOutput = null)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => onOutput?.Invoke(e.Data);
        _process.ErrorDataReceived += (_, e) => onOutput?.Invoke(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    /// <summary>SIGKILL, and waits until the process is gone: no shutdown of any kind.</summary>
    public void Kill()
    {
        if (_process.HasExited) return;
        _process.Kill();
        _process.WaitForExit();
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
