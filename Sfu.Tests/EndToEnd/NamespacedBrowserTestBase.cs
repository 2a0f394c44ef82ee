using System.Net;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.EndToEnd;

/// <summary>
/// A Chromium test whose browser runs inside network namespaces the test builds (a phone's two links, a lossy veth
/// pair): the network is created before each test, which is ignored with the reason where the machine cannot create
/// namespaces; the server listens on every address and announces the one the browser reaches it by; the browser,
/// the server and the network are closed in that order after each test.
/// </summary>
public abstract class NamespacedBrowserTestBase<TNetwork>
    where TNetwork : class, IDisposable
{
    private TNetwork? _network;
    private SfuTestServer? _server;
    private BrowserFixture? _browser;

    protected TNetwork Network => _network ?? throw new InvalidOperationException("the network is created before each test");

    protected SfuTestServer Server => _server ?? throw new InvalidOperationException("StartServerAndBrowserAsync comes first");

    /// <summary>Builds the test's network; throws <see cref="NetworkNamespaceUnavailableException"/> where it cannot.</summary>
    protected abstract TNetwork CreateNetwork();

    [SetUp]
    public void CreateTheNetwork()
    {
        try
        {
            _network = CreateNetwork();
        }
        catch (NetworkNamespaceUnavailableException e)
        {
            Assert.Ignore($"network namespaces unavailable here: {e.Message}");
        }
    }

    [TearDown]
    public async Task CloseEverything()
    {
        if (_browser is not null)
        {
            await _browser.ResetLoggingConsoleOnFailureAsync();
            await _browser.DisposeAsync();
        }
        if (_server is not null) await _server.DisposeAsync();
        _network?.Dispose();
        (_browser, _server, _network) = (null, null, null);
    }

    /// <summary>
    /// The server on every address, announcing <paramref name="serverAddress"/>, and Chromium inside
    /// <paramref name="browserNamespace"/>; returns the pages' origin, the server by that address.
    /// </summary>
    protected async Task<Uri> StartServerAndBrowserAsync(IPAddress serverAddress, NetworkNamespace browserNamespace)
    {
        _server = await SfuTestServer.StartAsync(null, "urls=http://0.0.0.0:0", "Sfu:Media:BindAddress=0.0.0.0", $"Sfu:Media:AnnouncedAddress={serverAddress}");
        var origin = new UriBuilder(_server.HttpBase) { Host = serverAddress.ToString() }.Uri;
        // Opened by the server's address over plain HTTP, as on a LAN; the switch lets the publisher use the camera.
        _browser = await BrowserFixture.LaunchAsync(browserNamespace, $"--unsafely-treat-insecure-origin-as-secure={origin.GetLeftPart(UriPartial.Authority)}");
        return origin;
    }

    /// <summary>The demo page in a new tab, joining <paramref name="room"/> as <paramref name="label"/> at once.</summary>
    protected async Task<SdkPage> OpenAsync(Uri origin, string room, string label, bool publish)
    {
        var page = await _browser!.NewPageAsync(label);
        await page.GotoAsync(new Uri(origin, $"/?room={room}&name={label}&publish={(publish ? 1 : 0)}&autostart=1").ToString());
        return new SdkPage(label, page);
    }
}
