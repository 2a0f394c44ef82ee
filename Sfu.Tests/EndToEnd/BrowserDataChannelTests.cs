namespace Sfu.Tests.EndToEnd;

/// <summary>
/// Data tracks between two Chromium pages through the server, with the browser SDK: each page publishes an ordered
/// reliable channel and an unordered unreliable one (publishData), and receives the other's through channels the
/// server opens on its subscribe connection.
/// </summary>
[Category("Media")]
public sealed class BrowserDataChannelTests : BrowserTestBase
{
    private const int Messages = 10_000;

    // Installed before anything is published: collects what arrives on each received data track, by label.
    private const string CollectScript = """
        () => {
          window.dc = { received: { reliable: [], lossy: [] }, tracks: [] };
          window.demo.client.on('data-track', ({ label }) => window.dc.tracks.push(label));
          window.demo.client.on('data', ({ label, data }) => window.dc.received[label]?.push(data));
        }
        """;

    // Sends `count` numbered messages on one of this page's data tracks, pacing on the channel's own buffer, and
    // pausing `pauseMs` after every hundred when asked (to spread the messages over time).
    private const string SendScript = """
        async ([label, count, pauseMs]) => {
          const channel = window.dc[label];
          for (let i = 0; i < count; i++) {
            while (channel.bufferedAmount > 256 * 1024) await new Promise(resolve => setTimeout(resolve, 5));
            channel.send(String(i));
            if (pauseMs > 0 && i % 100 === 99) await new Promise(resolve => setTimeout(resolve, pauseMs));
          }
        }
        """;

    [SetUp]
    public Task StartServerWithMediaOnLoopback() => StartServerAsync("Sfu:Media:AnnouncedAddress=127.0.0.1");

    [Test]
    public async Task TwoPages_Exchange10000MessagesEachWay_InOrderNoneLost_AndAnUnreliableChannelDelivers()
    {
        var (alice, bob) = await TwoPagesWithDataTracksAsync("data-1");

        await Task.WhenAll(new[] { alice, bob }.Select(p => p.Page.EvaluateAsync(SendScript, new object[] { "reliable", Messages, 0 })));
        await AssertAllReceivedInOrderAsync(alice, bob);

        // Unreliable, unordered: whatever arrives arrives whole and is one of those sent.
        await alice.Page.EvaluateAsync(SendScript, new object[] { "lossy", 200, 0 });
        await bob.WaitForAsync("window.dc.received.lossy.length > 0", "a message on the unreliable channel");
        var valid = await bob.EvaluateAsync<bool>("() => window.dc.received.lossy.every(m => Number(m) >= 0 && Number(m) < 200)");
        Assert.That(valid, Is.True);
    }

    [Test]
    public async Task OrderedChannels_StayWhole_AcrossAnIceRestartOfOnePageInTheMiddle()
    {
        var (alice, bob) = await TwoPagesWithDataTracksAsync("data-2");
        var restartsBefore = await RestartsAsync();

        // 100 pauses of 30 ms: the transfer lasts seconds, and the restart happens while it runs.
        var sending = new[] { alice, bob }.Select(p => p.Page.EvaluateAsync(SendScript, new object[] { "reliable", Messages, 30 })).ToList();
        await bob.WaitForAsync($"window.dc.received.reliable.length > {Messages / 10}", "the first messages");
        await bob.CallAsync("window.demo.client.restartIce()");
        var receivedByThen = await bob.EvaluateAsync<int>("() => window.dc.received.reliable.length");
        Assert.That(receivedByThen, Is.LessThan(Messages), "the restart finished while messages were still arriving");
        await Task.WhenAll(sending);
        await AssertAllReceivedInOrderAsync(alice, bob);

        Assert.That(await RestartsAsync() - restartsBefore, Is.GreaterThanOrEqualTo(2), "both of bob's transports restarted ICE");
    }

    private async Task<double> RestartsAsync()
    {
        var metrics = await Sfu.Tests.Infrastructure.MetricsSnapshot.ScrapeAsync(Server);
        return metrics["sfu_media_ice_restarts_total{direction=\"publish\"}"] + metrics["sfu_media_ice_restarts_total{direction=\"subscribe\"}"];
    }

    /// <summary>Two joined pages, each publishing 'reliable' and 'lossy' and receiving the other's.</summary>
    private async Task<(SdkPage Alice, SdkPage Bob)> TwoPagesWithDataTracksAsync(string room)
    {
        var alice = await OpenAsync("alice", room);
        var bob = await OpenAsync("bob", room);
        foreach (var page in new[] { alice, bob })
        {
            await page.WaitForStateAsync("connected");
            await page.EvaluateAsync<object?>(CollectScript);
        }
        foreach (var page in new[] { alice, bob })
        {
            await page.CallAsync("window.demo.client.publishData('reliable').then(c => { window.dc.reliable = c; })");
            await page.CallAsync("window.demo.client.publishData('lossy', { ordered: false, maxRetransmits: 0 }).then(c => { window.dc.lossy = c; })");
            await page.WaitForAsync("window.dc.reliable.isOpen && window.dc.lossy.isOpen", "its own channels open");
        }
        foreach (var page in new[] { alice, bob })
            await page.WaitForAsync("window.dc.tracks.includes('reliable') && window.dc.tracks.includes('lossy')", "the server's channels for the other page's tracks", TimeSpan.FromSeconds(30));
        return (alice, bob);
    }

    private static async Task AssertAllReceivedInOrderAsync(params SdkPage[] pages)
    {
        foreach (var page in pages)
            await page.WaitForAsync($"window.dc.received.reliable.length >= {Messages}", $"{Messages} reliable messages", TimeSpan.FromSeconds(90));
        foreach (var page in pages)
        {
            var inOrder = await page.EvaluateAsync<bool>($"() => window.dc.received.reliable.length === {Messages} && window.dc.received.reliable.every((m, i) => m === String(i))");
            Assert.That(inOrder, Is.True, $"{page.Label} received every message once, in order");
        }
    }
}
