using System.Collections.Concurrent;
using Microsoft.Playwright;

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

    private BrowserFixture(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    /// <summary>Launches Chromium; fails with a clear message when it is not installed (never a silent pass).</summary>
    /// <param name="launcher">What to run instead of Chromium itself, e.g. a script that runs it in a network
    /// namespace; it gets Chromium's arguments and must exec it (Playwright talks to it over a pipe).</param>
    public static async Task<BrowserFixture> LaunchAsync(string launcher = ChromiumPath)
    {
        if (!File.Exists(ChromiumPath))
            Assert.Fail($"{ChromiumPath} is missing: the end-to-end tests drive the system Chromium. Run scripts/install-deps.sh.");
        var playwright = await Playwright.CreateAsync();
        try
        {
            // LaunchAsync gives the browser a fresh temporary profile (user-data-dir) and deletes it on close.
            // Headless here is Chromium's new headless mode, the only one current builds have.
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = launcher,
                Headless = true,
                Args = ChromiumArgs,
                Timeout = 30_000,
            });
            return new BrowserFixture(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
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

    public async ValueTask DisposeAsync()
    {
        await ResetAsync();
        await _browser.CloseAsync();
        _playwright.Dispose();
    }
}
