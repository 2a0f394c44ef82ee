using System.Text.Json;

namespace Sfu.Tests.EndToEnd;

/// <summary>
/// A Chromium publisher's own congestion controller, fed by the server's transport-cc feedback, lets its 640x480
/// fake camera through at full size on loopback, and the subscriber receives what it sends.
/// </summary>
[Category("Media")]
public sealed class BrowserBandwidthTests : BrowserTestBase
{
    private static readonly TimeSpan RampDeadline = TimeSpan.FromSeconds(20);

    // Without feedback the estimate sat at ~84 kbit/s with the picture at 320x240. With feedback stamped when the
    // worker read each datagram, Chromium's start-up probes measured 0.8 to 1.7 Mbit/s; with the kernel's arrival
    // stamps they measure what loopback carries, and the estimate is past 3 Mbit/s within a second
    // (docs/BENCHMARKS.md). The issue asks for 1 Mbit/s.
    private const long EnoughEstimate = 1_000_000;

    // The demo page asks for 640x480 too; the test pins it (and 30 fps) so its figures do not follow the page.
    private const string CameraAt640x480 = """
        (() => {
          const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
          navigator.mediaDevices.getUserMedia = constraints =>
            getUserMedia({ ...constraints, video: constraints.video ? { width: 640, height: 480, frameRate: 30 } : false });
        })();
        """;

    // The publisher's outbound video and browser estimate, or the subscriber's inbound video bytes.
    private const string StatsScript = $$"""
        async (which) => {
          {{SdkPage.SelectedPathFunction}}
          const pc = which === 'publish' ? window.demo.client.publishConnection : window.demo.client.subscribeConnection;
          if (!pc) return null;
          const stats = [...(await pc.getStats()).values()];
          const { pair } = selectedPath(stats);
          const out = stats.find(s => s.type === 'outbound-rtp' && s.kind === 'video') ?? {};
          const inbound = stats.filter(s => s.type === 'inbound-rtp' && s.kind === 'video');
          return {
            width: out.frameWidth ?? 0,
            height: out.frameHeight ?? 0,
            fps: out.framesPerSecond ?? 0,
            reason: out.qualityLimitationReason ?? '',
            bytesSent: out.bytesSent ?? 0,
            estimate: pair?.availableOutgoingBitrate ?? 0,
            bytesReceived: inbound.reduce((sum, s) => sum + (s.bytesReceived ?? 0), 0),
          };
        }
        """;

    [SetUp]
    public Task StartServerWithMediaOnLoopback() => StartServerAsync("Sfu:Media:AnnouncedAddress=127.0.0.1");

    [Test]
    public async Task Publisher640x480_ReachesFullSizeUnlimited_AndTheSubscriberReceivesItsRate()
    {
        // One encoding: this is about the publisher's own estimate, which simulcast's small first layer keeps low for
        // longer (Chromium raises an estimate it does not use slowly; docs/BENCHMARKS.md).
        var alice = await OpenAsync("alice", "bandwidth-1", publish: true, beforeLoad: page => page.AddInitScriptAsync(CameraAt640x480), query: "simulcast=0");
        await alice.WaitForAsync("window.demo.client.publishConnection?.connectionState === 'connected'", "alice's publish connection");
        // Bob's page opens while the publisher ramps up, which is measured from its publish connection's start.
        var bobJoins = OpenAsync("bob", "bandwidth-1");

        // Once a second, what the publisher's browser says; the curve goes to the test output (docs/BENCHMARKS.md).
        TestContext.Out.WriteLine("t_s  estimate_kbps  width  height  fps  reason  sent_kbps");
        var started = DateTime.UtcNow;
        var previous = await StatsAsync(alice, "publish");
        int? reachedAt = null;
        for (var second = 1; second <= (int)RampDeadline.TotalSeconds; second++)
        {
            var wait = started + TimeSpan.FromSeconds(second) - DateTime.UtcNow;
            if (wait > TimeSpan.Zero) await Task.Delay(wait); // a loaded machine can take longer than that to answer getStats
            var stats = await StatsAsync(alice, "publish");
            var sentKbps = (stats.BytesSent - previous.BytesSent) * 8 / 1000;
            TestContext.Out.WriteLine($"{second,3}  {stats.Estimate / 1000,13:F0}  {stats.Width,5}  {stats.Height,6}  {stats.Fps,3:F0}  {stats.Reason,-6}  {sentKbps,9}");
            if (stats is { Width: 640, Height: 480, Reason: "none", Estimate: > EnoughEstimate }) reachedAt ??= second;
            previous = stats;
        }
        TestContext.Out.WriteLine($"full size, no limitation and above {EnoughEstimate / 1000} kbit/s after {reachedAt?.ToString() ?? "-"} s");
        Assert.That(reachedAt, Is.Not.Null, $"within {RampDeadline.TotalSeconds} s: 640x480, qualityLimitationReason none, estimate above {EnoughEstimate / 1000} kbit/s (last: {previous})");
        var bob = await bobJoins;
        await bob.WaitForAsync("window.demo.client.subscribeConnection?.connectionState === 'connected'", "bob's subscribe connection");

        // What the publisher sends, the subscriber receives: both over the same 3 s.
        var sentBefore = await StatsAsync(alice, "publish");
        var receivedBefore = await StatsAsync(bob, "subscribe");
        await Task.Delay(TimeSpan.FromSeconds(3));
        var sentAfter = await StatsAsync(alice, "publish");
        var receivedAfter = await StatsAsync(bob, "subscribe");
        var sentRate = (sentAfter.BytesSent - sentBefore.BytesSent) * 8 / 3;
        var receivedRate = (receivedAfter.BytesReceived - receivedBefore.BytesReceived) * 8 / 3;
        TestContext.Out.WriteLine($"publisher sent {sentRate / 1000} kbit/s, subscriber received {receivedRate / 1000} kbit/s");
        Assert.That(receivedRate, Is.GreaterThan(sentRate * 0.8), "the subscriber receives the publisher's rate");
        Assert.That(sentAfter is { Width: 640, Height: 480 }, Is.True, $"still 640x480 ({sentAfter})");
    }

    private static async Task<PeerStats> StatsAsync(SdkPage page, string which)
    {
        var stats = await page.Page.EvaluateAsync<JsonElement>(StatsScript, which);
        Assert.That(stats.ValueKind, Is.EqualTo(JsonValueKind.Object), $"{page.Label} has a {which} connection");
        return new PeerStats(
            stats.GetProperty("width").GetInt32(),
            stats.GetProperty("height").GetInt32(),
            stats.GetProperty("fps").GetDouble(),
            stats.GetProperty("reason").GetString()!,
            stats.GetProperty("bytesSent").GetInt64(),
            stats.GetProperty("estimate").GetDouble(),
            stats.GetProperty("bytesReceived").GetInt64());
    }

    private sealed record PeerStats(int Width, int Height, double Fps, string Reason, long BytesSent, double Estimate, long BytesReceived);
}
