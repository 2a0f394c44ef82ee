using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.EndToEnd;

/// <summary>
/// Chromium on a network that drops every UDP datagram in and out (a network namespace with nftables rules), against
/// the real server: it gets media over ICE-TCP; with ICE-TCP off, through coturn over TCP with the credentials of the
/// join response; and a subscriber whose network starts blocking UDP mid-call is back over TCP, with nobody seeing it
/// leave (how soon is printed, not asserted; the test gives up after 20 s). The other peer is a Chromium in the test's
/// own namespace, on UDP.
/// </summary>
[Category("Media")]
[Category("NetworkNamespace")]
public sealed class BrowserBlockedUdpTests : BrowserTestBase
{
    private const string TurnSecret = "reach-turn-secret-for-browser-tests";

    // The selected candidate pair of one connection (protocol and type of both ends, the relay's protocol), and its
    // inbound video: frames decoded and their size.
    private const string PathScript = $$"""
        async (which) => {
          {{SdkPage.SelectedPathFunction}}
          const pc = which === 'publish' ? window.demo.client.publishConnection : window.demo.client.subscribeConnection;
          if (!pc) return null;
          const stats = [...(await pc.getStats()).values()];
          const { local, remote } = selectedPath(stats);
          const video = stats.filter(s => s.type === 'inbound-rtp' && s.kind === 'video');
          return {
            ice: pc.iceConnectionState,
            localProtocol: local?.protocol ?? null, localType: local?.candidateType ?? null, relayProtocol: local?.relayProtocol ?? null,
            remoteProtocol: remote?.protocol ?? null, remotePort: remote?.port ?? 0,
            framesDecoded: video.reduce((n, s) => n + (s.framesDecoded ?? 0), 0),
            width: Math.max(0, ...video.map(s => s.frameWidth ?? 0)),
            height: Math.max(0, ...video.map(s => s.frameHeight ?? 0)),
          };
        }
        """;

    private VethNetwork _network = null!;
    private BrowserFixture? _inside;

    [OneTimeSetUp]
    public void CreateNetwork()
    {
        try
        {
            _network = VethNetwork.Create("reach", subnetOctet: 219);
        }
        catch (NetworkNamespaceUnavailableException e)
        {
            Assert.Ignore($"network namespaces unavailable here: {e.Message}");
        }
    }

    [OneTimeTearDown]
    public void DeleteNetwork() => _network?.Dispose();

    [SetUp]
    public void AllowUdp() => _network.AllowUdp();

    [TearDown]
    public async Task CloseInsideBrowser()
    {
        if (_inside is not null) await _inside.DisposeAsync();
        _inside = null;
    }

    [Test]
    public async Task OnANetworkThatBlocksUdp_ChromiumJoinsPublishesAndReceives_OverIceTcp()
    {
        await StartAsync();
        _network.BlockUdp();
        var alice = await OpenAsync("alice", "blocked-1", publish: true);
        var bob = await OpenInsideAsync("bob", "blocked-1", publish: true);

        var received = await WaitForVideoAsync(bob, "subscribe", minWidth: 320);
        Assert.Multiple(() =>
        {
            Assert.That(received.GetProperty("localProtocol").GetString(), Is.EqualTo("tcp"), received.ToString());
            Assert.That(received.GetProperty("remoteProtocol").GetString(), Is.EqualTo("tcp"));
            // Not relayed. An active TCP candidate is written with port 9; the port the connection really has comes back
            // in the server's answer, so Chromium may list its end as peer-reflexive.
            Assert.That(received.GetProperty("localType").GetString(), Is.AnyOf("host", "prflx"));
        });
        var published = await PathAsync(bob, "publish");
        Assert.That(published.GetProperty("remoteProtocol").GetString(), Is.EqualTo("tcp"), published.ToString());
        await WaitForVideoAsync(alice, "subscribe", minWidth: 320);

        var metrics = await MetricsSnapshot.ScrapeAsync(Server);
        Assert.Multiple(() =>
        {
            Assert.That(metrics["sfu_media_transports_by_protocol{protocol=\"tcp\"}"], Is.EqualTo(2), metrics.ToString());
            Assert.That(metrics["sfu_media_tcp_connections{state=\"verified\"}"], Is.GreaterThanOrEqualTo(2));
        });
    }

    [Test]
    public async Task OnANetworkThatBlocksUdp_WithIceTcpOff_MediaGoesThroughCoturn_OverTcp()
    {
        using var coturn = await CoturnServer.StartAsync(_network.ServerAddress, TurnSecret);
        await StartAsync("Sfu:Media:TcpEnabled=false", $"Sfu:Turn:Urls:0={coturn.TcpUrl}", $"Sfu:Turn:Secret={TurnSecret}");
        _network.BlockUdp();
        var alice = await OpenAsync("alice", "blocked-2", publish: true);
        var bob = await OpenInsideAsync("bob", "blocked-2", publish: true);

        var received = await WaitForVideoAsync(bob, "subscribe", minWidth: 320, wait: TimeSpan.FromSeconds(40));
        Assert.Multiple(() =>
        {
            Assert.That(received.GetProperty("localType").GetString(), Is.EqualTo("relay"), $"{received}\n{coturn.Log()}");
            Assert.That(received.GetProperty("relayProtocol").GetString(), Is.EqualTo("tcp"));
            Assert.That(received.GetProperty("remoteProtocol").GetString(), Is.EqualTo("udp"), "coturn relays to the server's UDP port");
        });
        await WaitForVideoAsync(alice, "subscribe", minWidth: 320);
        var metrics = await MetricsSnapshot.ScrapeAsync(Server);
        // Coturn relays from the address the server also announces (one veth here), so alice's paths may count too.
        Assert.That(metrics["sfu_media_transports_by_protocol{protocol=\"relayed\"}"], Is.GreaterThanOrEqualTo(2), metrics.ToString());
    }

    [Test]
    public async Task ASubscriberWhoseNetworkStartsBlockingUdp_IsBackOverTcp_AndNobodySeesItLeave()
    {
        await StartAsync();
        var alice = await OpenAsync("alice", "blocked-3", publish: true);
        var bob = await OpenInsideAsync("bob", "blocked-3", publish: false);
        var before = await WaitForVideoAsync(bob, "subscribe", minWidth: 1);
        Assert.That(before.GetProperty("remoteProtocol").GetString(), Is.EqualTo("udp"), "on UDP while it is allowed");
        var sessionId = await bob.SessionIdAsync();

        _network.BlockUdp();
        var blocked = Stopwatch.StartNew();
        var frames = before.GetProperty("framesDecoded").GetInt64();
        var lastNewFrame = TimeSpan.Zero;
        var longestStall = TimeSpan.Zero;
        JsonElement now;
        while (true)
        {
            await Task.Delay(200);
            now = await PathAsync(bob, "subscribe");
            var decoded = now.GetProperty("framesDecoded").GetInt64();
            if (decoded > frames)
            {
                longestStall = Max(longestStall, blocked.Elapsed - lastNewFrame);
                lastNewFrame = blocked.Elapsed;
                frames = decoded;
                if (now.GetProperty("remoteProtocol").GetString() == "tcp" && longestStall >= TimeSpan.FromMilliseconds(500)) break;
            }
            if (blocked.Elapsed > TimeSpan.FromSeconds(20)) Assert.Fail($"no video over TCP 20 s after UDP was blocked: {now}");
        }
        TestContext.Out.WriteLine($"video stopped for {longestStall.TotalSeconds:F1} s; back over TCP {blocked.Elapsed.TotalSeconds:F1} s after UDP was blocked");
        foreach (var e in await bob.EventsAsync("media-state")) TestContext.Out.WriteLine($"bob media-state {e}");

        Assert.Multiple(async () =>
        {
            Assert.That(await alice.EventsAsync("peer-left"), Is.Empty, "the publisher never saw bob leave");
            Assert.That(await bob.EventsAsync("peer-left"), Is.Empty, "bob never saw the publisher leave");
            Assert.That((await alice.EventsAsync("peer-state")).Select(e => e.GetProperty("state").GetString()), Is.All.AnyOf("interrupted", "active"));
            Assert.That(await bob.SessionIdAsync(), Is.EqualTo(sessionId), "the same session: nothing to replay was lost");
            Assert.That((await bob.StatesAsync()).Count(s => s.State == "connected"), Is.EqualTo(1), "bob's signaling never left connected");
        });
        var metrics = await MetricsSnapshot.ScrapeAsync(Server);
        Assert.That(metrics["sfu_media_path_protocol_switches_total{from=\"udp\",to=\"tcp\"}"], Is.GreaterThanOrEqualTo(1), metrics.ToString());
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private Task StartAsync(params string[] settings) => StartServerAsync(
    [
        "urls=http://0.0.0.0:0",
        "Sfu:Media:BindAddress=0.0.0.0",
        $"Sfu:Media:AnnouncedAddress={_network.ServerAddress}",
        .. settings,
    ]);

    /// <summary>A demo page in a Chromium inside the namespace, opened by the server's address there.</summary>
    private async Task<SdkPage> OpenInsideAsync(string label, string room, bool publish)
    {
        var origin = new UriBuilder(Server.HttpBase) { Host = _network.ServerAddress.ToString() }.Uri;
        // Over plain HTTP and not on localhost, a page gets no camera unless its origin is declared secure.
        _inside ??= await BrowserFixture.LaunchAsync(_network.Inside, $"--unsafely-treat-insecure-origin-as-secure={origin.GetLeftPart(UriPartial.Authority)}");
        var page = await _inside.NewPageAsync(label);
        var url = new Uri(origin, $"/?room={Uri.EscapeDataString(room)}&name={Uri.EscapeDataString(label)}&publish={(publish ? 1 : 0)}&autostart=1");
        await page.GotoAsync(url.ToString());
        return new SdkPage(label, page);
    }

    private static async Task<JsonElement> PathAsync(SdkPage page, string which) => await page.Page.EvaluateAsync<JsonElement>(PathScript, which);

    /// <summary>Waits until the connection decodes video at least <paramref name="minWidth"/> wide, and frames keep coming.</summary>
    private static async Task<JsonElement> WaitForVideoAsync(SdkPage page, string which, int minWidth, TimeSpan? wait = null)
    {
        var deadline = Stopwatch.StartNew();
        JsonElement stats = default;
        while (deadline.Elapsed < (wait ?? TimeSpan.FromSeconds(30)))
        {
            stats = await PathAsync(page, which);
            if (stats.ValueKind == JsonValueKind.Object && stats.GetProperty("framesDecoded").GetInt64() > 0 && stats.GetProperty("width").GetInt32() >= minWidth)
            {
                await Task.Delay(500);
                var later = await PathAsync(page, which);
                if (later.GetProperty("framesDecoded").GetInt64() > stats.GetProperty("framesDecoded").GetInt64()) return later;
            }
            await Task.Delay(250);
        }
        Assert.Fail($"{page.Label}: no video of width {minWidth} on the {which} connection: {stats}");
        return stats;
    }
}
