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
                using var handle = File.OpenHandle($"/run/netns/{Name}");
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

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(SafeFileHandle fd, int nstype);
}

/// <summary>This machine cannot create or enter network namespaces; the message says why.</summary>
public sealed class NetworkNamespaceUnavailableException(string reason) : Exception(reason);
