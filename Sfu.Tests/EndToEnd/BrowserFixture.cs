using System.Collections.Concurrent;
using Microsoft.Playwright;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.EndToEnd;

/// <summary>
/// The system Chromium, driven by Playwright: launched once per test class, with a fresh profile and an isolated
/// browser context per page (one context is one "user"). Every page's console output is kept, so a failing test
/// can show what the pages said.
/// </summary>
public sealed class BrowserFixture : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>
    /// A name Chromium resolves to 127.0.0.1. Unlike localhost or 127.0.0.1, a page opened by it over plain HTTP is
    /// not a secure context, as for someone who opens the server by its LAN address or host name.
    /// </summary>
    public const string InsecureHost = "sfu-over-http.test";

    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox",
        // Fake camera and microphone that need no permission prompt.
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        // Without it Chromium gathers no ICE candidate on loopback, where the test server listens.
        "--allow-loopback-in-peer-connection",
        "--autoplay-policy=no-user-gesture-required",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-gpu",
        $"--host-resolver-rules=MAP {InsecureHost} 127.0.0.1",
    ];

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;
    private readonly List<IBrowserContext> _contexts = [];
    private readonly ConcurrentQueue<string> _console = new();
    private readonly string? _launcher;

    private BrowserFixture(IPlaywright playwright, IBrowser browser, string? launcher)
    {
        _playwright = playwright;
        _browser = browser;
        _launcher = launcher;
    }

    /// <summary>Launches Chromium; fails with a clear message when it is not installed (never a silent pass).</summary>
    /// <param name="inside">A network namespace to run the browser in (all its sockets live there), or null for ours.</param>
    /// <param name="extraArgs">Command-line switches on top of the usual ones.</param>
    public static async Task<BrowserFixture> LaunchAsync(NetworkNamespace? inside = null, params string[] extraArgs)
    {
        if (!File.Exists(ChromiumPath))
            Assert.Fail($"{ChromiumPath} is missing: the end-to-end tests drive the system Chromium. Run scripts/install-deps.sh.");
        var launcher = inside is null ? null : WriteLauncher(inside);
        var playwright = await Playwright.CreateAsync();
        try
        {
            // LaunchAsync gives the browser a fresh temporary profile (user-data-dir) and deletes it on close.
            // Headless here is Chromium's new headless mode, the only one current builds have.
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = launcher ?? ChromiumPath,
                Headless = true,
                Args = [.. ChromiumArgs, .. extraArgs],
                Timeout = 30_000,
            });
            return new BrowserFixture(playwright, browser, launcher);
        }
        catch
        {
            playwright.Dispose();
            if (launcher is not null) File.Delete(launcher);
            throw;
        }
    }

    /// <summary>
    /// A script that starts Chromium inside <paramref name="networkNamespace"/>. Playwright drives the browser over a
    /// pipe (inherited file descriptors), which <c>ip netns exec</c> passes through, so the page's sockets are the
    /// namespace's while the test talks to it as usual.
    /// </summary>
    private static string WriteLauncher(NetworkNamespace networkNamespace)
    {
        var path = Path.Combine(Path.GetTempPath(), $"chromium-in-{networkNamespace.Name}.sh");
        File.WriteAllText(path, $"#!/bin/sh\nexec ip netns exec {networkNamespace.Name} {ChromiumPath} \"$@\"\n");
        // Network namespaces exist only on Linux, where a namespace was made before we get here.
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>A page in a context of its own; <paramref name="label"/> prefixes its console lines.</summary>
    public async Task<IPage> NewPageAsync(string label)
    {
        var context = await _browser.NewContextAsync();
        lock (_contexts) _contexts.Add(context);
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        page.Console += (_, message) => _console.Enqueue($"[{label}] {message.Type}: {message.Text}");
        page.PageError += (_, error) => _console.Enqueue($"[{label}] page error: {error}");
        return page;
    }

    /// <summary>Closes every page of the test that ends; returns what their consoles said.</summary>
    public async Task<IReadOnlyList<string>> ResetAsync()
    {
        IBrowserContext[] contexts;
        lock (_contexts)
        {
            contexts = [.. _contexts];
            _contexts.Clear();
        }
        foreach (var context in contexts) await context.CloseAsync();
        var lines = new List<string>();
        while (_console.TryDequeue(out var line)) lines.Add(line);
        return lines;
    }

    /// <summary>Closes every page of the test that ends and, when it failed, writes what their consoles said to its log.</summary>
    public async Task ResetLoggingConsoleOnFailureAsync()
    {
        var console = await ResetAsync();
        if (TestContext.CurrentContext.Result.Outcome.Status != NUnit.Framework.Interfaces.TestStatus.Failed) return;
        TestContext.Out.WriteLine("--- browser console ---");
        foreach (var line in console) TestContext.Out.WriteLine(line);
    }

    public async ValueTask DisposeAsync()
    {
        await ResetAsync();
        await _browser.CloseAsync();
        _playwright.Dispose();
        if (_launcher is not null) File.Delete(_launcher);
    }
}
