namespace Sfu.Tests.EndToEnd;

/// <summary>
/// Data tracks between two Chromium pages through the server, with the browser SDK: each page publishes an ordered
/// reliable channel and an unordered unreliable one (publishData), and receives the other's through channels the
/// server opens on its subscribe connection.
/// </summary>
[Category("Media")]
public sealed class BrowserDataChannelTests : BrowserTestBase
{
    private const int Messages = DataTrackPages.Messages;
    private const string SendScript = DataTrackPages.SendScript;

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

    private Task<(SdkPage Alice, SdkPage Bob)> TwoPagesWithDataTracksAsync(string room) =>
        DataTrackPages.TwoPagesAsync(label => OpenAsync(label, room));

    private static Task AssertAllReceivedInOrderAsync(params SdkPage[] pages) => DataTrackPages.AssertAllReceivedInOrderAsync(pages);
}
