using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sfu.Tests.Infrastructure;

/// <summary>
/// A Linux network namespace the test creates (with iproute2's <c>ip</c>) and deletes, and a way to make sockets
/// inside it from this process: <see cref="Run{T}"/> calls a function on a fresh thread that has joined the
/// namespace. A socket stays in the namespace it was created in whatever thread uses it later, so only socket
/// creation has to happen there. Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN).
/// </summary>
public sealed partial class NetworkNamespace : IDisposable
{
    private const int CloneNewNet = 0x40000000;

    /// <summary>Where <c>ip netns</c> keeps its namespaces, one file each.</summary>
    private const string NamespaceDirectory = "/run/netns";

    private static readonly long ThisProcessStart = StartOf(Environment.ProcessId) ?? 0;
    private static int _created;

    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }

    /// <summary>Creates the namespace with its loopback up; throws <see cref="NetworkNamespaceUnavailableException"/>
    /// when this machine cannot (not Linux, no <c>ip</c>, not allowed).</summary>
    public static NetworkNamespace Create(string name)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new NetworkNamespaceUnavailableException("not Linux");
        }

        try
        {
            RootIp("netns", "add", name);
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException)
        {
            throw new NetworkNamespaceUnavailableException(e.Message);
        }

        var created = new NetworkNamespace(name);
        try
        {
            created.Ip("link", "set", "lo", "up");
            // Joining it is the other half of what the tests need; a sandbox may allow `ip` but not setns.
            created.Run(() => 0);
        }
        catch (Exception e)
        {
            created.Dispose();
            throw new NetworkNamespaceUnavailableException(e.Message);
        }

        return created;
    }

    /// <summary>
    /// Creates a namespace named <c>prefix-pid-start-n</c>: this process's id and start time (clock ticks since boot, so
    /// a later process that reuses the id is another owner) and a count of this process's namespaces, so no two
    /// fixtures share a name, in one test host or several. First deletes every namespace of <paramref name="prefix"/>
    /// whose owner is gone (a crashed or killed run's leftovers; their veth pairs go with them).
    /// </summary>
    public static NetworkNamespace CreateOwned(string prefix)
    {
        DeleteLeftovers(prefix);
        return Create($"{prefix}-{Environment.ProcessId}-{ThisProcessStart}-{Interlocked.Increment(ref _created)}");
    }

    /// <summary>Deletes the namespaces <see cref="CreateOwned"/> made with <paramref name="prefix"/> for processes that no longer run.</summary>
    private static void DeleteLeftovers(string prefix)
    {
        if (!Directory.Exists(NamespaceDirectory)) return;
        foreach (var path in Directory.EnumerateFiles(NamespaceDirectory, prefix + "-*"))
        {
            var name = Path.GetFileName(path);
            var ownerAlive = name[(prefix.Length + 1)..].Split('-') switch
            {
                [var pid, var start, _] when int.TryParse(pid, out var id) && long.TryParse(start, out var ticks) => StartOf(id) == ticks,
                // Named before the start time was part of the name: the process id alone says.
                [var pid] when int.TryParse(pid, out var id) => StartOf(id) is not null,
                _ => true, // not a name this class makes
            };
            if (ownerAlive) continue;
            try
            {
                RootIp("netns", "del", name);
            }
            catch (InvalidOperationException)
            {
                // Another test host deleted it first.
            }
        }
    }

    /// <summary>Whether a namespace of that name exists now.</summary>
    public static bool Exists(string name) => File.Exists($"{NamespaceDirectory}/{name}");

    /// <summary>Runs <c>ip</c> in the test's own (root) namespace; throws with its stderr when it fails.</summary>
    public static void RootIp(params string[] args) => RootCommand("ip", args);

    /// <summary>Runs an iproute2 tool (<c>ip</c>, <c>tc</c>) in the root namespace; throws with its stderr when it fails.</summary>
    public static void RootCommand(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)}: exit {process.ExitCode}: {stderr.Result.Trim()}");
        }
    }

    /// <summary>Runs <c>ip -n &lt;name&gt; ...</c>: an ip command inside this namespace.</summary>
    public void Ip(params string[] args) => RootIp(["-n", Name, .. args]);

    /// <summary>
    /// Calls <paramref name="create"/> on a new thread inside the namespace and returns what it made. setns(2)
    /// with CLONE_NEWNET changes only the calling thread, so the thread is our own and ends with the call: no
    /// pool thread is ever left inside.
    /// </summary>
    public T Run<T>(Func<T> create)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"{NamespaceDirectory}/{Name}");
                if (SetNs(handle, CloneNewNet) != 0)
                {
                    throw new Win32Exception(Marshal.GetLastPInvokeError(), $"setns into {Name}");
                }

                result = create();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        { IsBackground = true, Name = $"netns {Name}" };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    /// <summary>Deletes the namespace; its interfaces go with it (a veth pair dies with either end).</summary>
    public void Dispose()
    {
        try
        {
            RootIp("netns", "del", Name);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>When the process <paramref name="pid"/> started (field 22 of its stat), or null when none runs.</summary>
    private static long? StartOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // After the command name (which may hold spaces and parentheses), the state is field 3: starttime is 19 further on.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(SafeFileHandle fd, int nstype);
}

/// <summary>This machine cannot create or enter network namespaces; the message says why.</summary>
public sealed class NetworkNamespaceUnavailableException(string reason) : Exception(reason);
