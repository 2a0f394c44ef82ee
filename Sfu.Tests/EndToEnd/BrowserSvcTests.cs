using System.Text.Json;

namespace Sfu.Tests.EndToEnd;

/// <summary>
/// Real Chromium publishing its fake 640x480 camera as VP9 SVC (<c>scalabilityMode: 'L3T3_KEY'</c>: every spatial
/// layer in one stream), and two SDK pages receiving it: one takes everything, the other caps the track to the
/// lowest spatial layer, which the server carves out of the same stream by the payload descriptors' layer indices.
/// </summary>
[Category("Media")]
public sealed class BrowserSvcTests : BrowserTestBase
{
    // What the publisher's encoder does: Chromium may send fewer spatial layers than asked for a small capture.
    private const string OutboundScript = """
        async () => [...(await window.simulcastPublisher.pc.getStats()).values()]
          .filter(s => s.type === 'outbound-rtp' && s.kind === 'video')
          .map(s => ({ scalabilityMode: s.scalabilityMode ?? '', frameWidth: s.frameWidth ?? 0 }))[0] ?? { scalabilityMode: '', frameWidth: 0 }
        """;

    // What a subscriber decodes and receives of video.
    private const string InboundScript = """
        async () => {
          const pc = window.demo.client.subscribeConnection;
          const video = pc ? [...(await pc.getStats()).values()].find(s => s.type === 'inbound-rtp' && s.kind === 'video') : null;
          return { framesDecoded: video?.framesDecoded ?? 0, frameWidth: video?.frameWidth ?? 0, bytesReceived: video?.bytesReceived ?? 0 };
        }
        """;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [SetUp]
    public Task StartServerWithMediaOnLoopback() => StartServerAsync("Sfu:Media:AnnouncedAddress=127.0.0.1");

    [Test]
    public async Task SvcPublisher_FullSubscriberGetsTheTopLayer_CappedSubscriberGetsTheLowestFromTheSameStream()
    {
        const string room = "svc";
        var publisher = await Browser.NewPageAsync("publisher");
        await publisher.GotoAsync(new Uri(Server.HttpBase, "/").ToString());
        var answer = await publisher.EvaluateAsync<string>(BrowserSimulcastTests.PublishScript,
            new { room, encodings = new[] { new { scalabilityMode = "L3T3_KEY" } }, codec = "VP9" });
        Assert.That(answer, Does.Contain("VP9/90000").And.Not.Contain("a=simulcast"));

        var full = await OpenAsync("full", room);
        var capped = await OpenAsync("capped", room);
        await capped.WaitForAsync("window.demo.client.remoteTracks.some(r => r.kind === 'video')", "the video track");
        var trackId = await capped.EvaluateAsync<string>("() => window.demo.client.remoteTracks.find(r => r.kind === 'video').trackId");
        await capped.CallAsync($"window.demo.client.setTrackPreferences({SdkPage.Js(trackId)}, {{ maxLayer: 0 }})");

        var fullStats = await WaitForWidthAsync(full, width => width == 640);
        var cappedStats = await WaitForWidthAsync(capped, width => width is > 0 and < 640);
        var sent = await publisher.EvaluateAsync<JsonElement>(OutboundScript);
        TestContext.Out.WriteLine($"publisher: {sent.GetRawText()}");

        // Both steady now: what each receives over the same five seconds.
        await Task.Delay(TimeSpan.FromSeconds(5));
        var fullLater = await InboundAsync(full);
        var cappedLater = await InboundAsync(capped);
        var fullBytes = fullLater.GetProperty("bytesReceived").GetInt64() - fullStats.GetProperty("bytesReceived").GetInt64();
        var cappedBytes = cappedLater.GetProperty("bytesReceived").GetInt64() - cappedStats.GetProperty("bytesReceived").GetInt64();
        var cappedFrames = cappedLater.GetProperty("framesDecoded").GetInt64() - cappedStats.GetProperty("framesDecoded").GetInt64();
        TestContext.Out.WriteLine($"in 5 s: full {fullBytes} bytes, {fullLater.GetProperty("frameWidth")} wide; capped {cappedBytes} bytes, {cappedFrames} frames, {cappedLater.GetProperty("frameWidth")} wide");
        // The demo page logs each track-layer event the SDK reports as { trackId, index, ... }.
        var fullLayers = await full.EventsAsync("layer");
        var cappedLayers = await capped.EventsAsync("layer");
        Assert.Multiple(() =>
        {
            Assert.That(sent.GetProperty("scalabilityMode").GetString(), Does.Match("^L[23]T3_KEY$"), "Chromium sends spatial layers in one stream");
            Assert.That(fullLater.GetProperty("frameWidth").GetInt32(), Is.EqualTo(640));
            Assert.That(cappedLater.GetProperty("frameWidth").GetInt32(), Is.InRange(1, 639));
            Assert.That(cappedFrames, Is.GreaterThanOrEqualTo(50), "the capped subscriber keeps decoding (about 10 fps or more)");
            Assert.That(cappedBytes, Is.LessThan(fullBytes * 6 / 10), "the upper layers are not sent to the capped subscriber");
            Assert.That(fullLayers.Select(e => e.GetProperty("index").ToString()), Has.Some.Matches<string>(i => i is "1" or "2"),
                "the server saw and reported an upper spatial layer");
            Assert.That(cappedLayers[^1].GetProperty("index").GetInt32(), Is.Zero);
            Assert.That(fullLayers[^1].GetProperty("count").GetInt32(), Is.GreaterThanOrEqualTo(2), "the server says how many spatial layers the track has");
            Assert.That(fullLayers[^1].GetProperty("quality").GetString(), Is.EqualTo("high"), "so the top spatial layer reads as high, not medium");
        });
    }

    private static Task<JsonElement> InboundAsync(SdkPage page) => page.Page.EvaluateAsync<JsonElement>(InboundScript);

    /// <summary>Polls a subscriber's statistics until it decodes at a width that <paramref name="wanted"/> accepts (or fails after 30 s).</summary>
    private static async Task<JsonElement> WaitForWidthAsync(SdkPage page, Func<int, bool> wanted)
    {
        var deadline = DateTime.UtcNow + Wait;
        JsonElement stats;
        do
        {
            await Task.Delay(250);
            stats = await InboundAsync(page);
        }
        while (!wanted(stats.GetProperty("frameWidth").GetInt32()) && DateTime.UtcNow < deadline);
        Assert.That(wanted(stats.GetProperty("frameWidth").GetInt32()), $"{page.Label} decodes at {stats.GetRawText()}");
        return stats;
    }
}
