using Microsoft.Playwright;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.EndToEnd;

/// <summary>
/// One Chromium per test class, one real server per test. After each test the pages close before the server
/// stops (so no page is left reconnecting), and a failed test gets the pages' console output in its log.
/// </summary>
[NonParallelizable]
public abstract class BrowserTestBase
{
    private BrowserFixture? _browser;
    private SfuTestServer? _server;

    protected BrowserFixture Browser => _browser ?? throw new InvalidOperationException("the browser did not start");

    protected SfuTestServer Server => _server ?? throw new InvalidOperationException("call StartServerAsync first");

    [OneTimeSetUp]
    public async Task LaunchBrowser() => _browser = await BrowserFixture.LaunchAsync();

    [OneTimeTearDown]
    public async Task CloseBrowser()
    {
        if (_browser is not null) await _browser.DisposeAsync();
    }

    [TearDown]
    public async Task CloseTestPagesAndServer()
    {
        if (_browser is not null) await _browser.ResetLoggingConsoleOnFailureAsync();
        if (_server is not null) await _server.DisposeAsync();
        _server = null;
    }

    protected async Task StartServerAsync(params string[] settings) => _server = await SfuTestServer.StartAsync(null, settings);

    /// <summary>Opens the demo page, which joins <paramref name="room"/> on its own (and publishes when asked).</summary>
    /// <param name="beforeLoad">Runs on the new page before it loads, e.g. to route its WebSocket.</param>
    /// <param name="host">The host name the page is opened by, instead of the server's loopback address.</param>
    /// <param name="query">More of the page's query parameters (<c>simulcast=0</c>), without the leading '&amp;'.</param>
    protected async Task<SdkPage> OpenAsync(string label, string room, bool publish = false, Func<IPage, Task>? beforeLoad = null, string? host = null, string? query = null)
    {
        var page = await Browser.NewPageAsync(label);
        if (beforeLoad is not null) await beforeLoad(page);
        var server = host is null ? Server.HttpBase : new UriBuilder(Server.HttpBase) { Host = host }.Uri;
        var url = new Uri(server, $"/?room={Uri.EscapeDataString(room)}&name={Uri.EscapeDataString(label)}&publish={(publish ? 1 : 0)}&autostart=1{(query is null ? "" : "&" + query)}");
        await page.GotoAsync(url.ToString());
        return new SdkPage(label, page);
    }
}
