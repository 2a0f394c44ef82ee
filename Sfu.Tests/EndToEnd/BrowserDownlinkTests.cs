using System.Globalization;
using System.Runtime.Versioning;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sfu.Signaling.Connections;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.EndToEnd;

/// <summary>
/// A subscriber whose downlink shrinks mid-call, in real Chromium: a simulcast publisher (the demo page's 640x480
/// camera, sent as 320x240 + 640x480), subscriber A in its own Chromium inside a network namespace whose only link
/// to the server is a veth pair the test throttles with a token bucket, and subscriber B on the server's machine,
/// unthrottled. Every figure is A's (or B's) own getStats. Skipped, with the reason, where the machine cannot create
/// network namespaces.
/// </summary>
[Category("Media")]
public sealed class BrowserDownlinkTests : BrowserTestBase
{
    private const long ThrottledRate = 400_000;
    private static readonly TimeSpan Sample = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Before = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Throttled = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan After = TimeSpan.FromSeconds(20);

    // What the page receives: its video (size, frames, freezes, bytes), its audio, and the layer the SDK reports.
    private const string ReceivedScript = """
        async () => {
          const client = window.demo.client;
          const pc = client?.subscribeConnection;
          if (!pc) return null;
          const stats = [...(await pc.getStats()).values()];
          const video = stats.find(s => s.type === 'inbound-rtp' && s.kind === 'video') ?? {};
          const audio = stats.find(s => s.type === 'inbound-rtp' && s.kind === 'audio') ?? {};
          const layer = client.remoteTracks.find(r => r.kind === 'video')?.layer;
          return {
            width: video.frameWidth ?? 0,
            framesDecoded: video.framesDecoded ?? 0,
            freezes: video.freezeCount ?? 0,
            freezeSeconds: video.totalFreezesDuration ?? 0,
            videoBytes: video.bytesReceived ?? 0,
            audioPackets: audio.packetsReceived ?? 0,
            audioLost: audio.packetsLost ?? 0,
            layer: layer === undefined ? '-' : layer.paused ? 'paused' : String(layer.index ?? '-'),
            label: document.querySelector('.tile:not(.self) .layer')?.textContent ?? '',
          };
        }
        """;

    private VethNetwork? _link;
    private BrowserFixture? _inside;

    [SetUp]
    [SupportedOSPlatform("linux")] // VethNetwork.Create has the test ignored elsewhere
    public async Task CreateTheThrottledLinkAndItsBrowser()
    {
        VethNetwork link;
        try
        {
            _link = link = VethNetwork.Create("dl", subnetOctet: 214);
        }
        catch (NetworkNamespaceUnavailableException e)
        {
            Assert.Ignore($"network namespaces unavailable here: {e.Message}");
            return;
        }

        _inside = await BrowserFixture.LaunchAsync(link.Inside);
    }

    [TearDown]
    public async Task DeleteTheLink()
    {
        if (_inside is not null) await _inside.DisposeAsync();
        _inside = null;
        _link?.Dispose();
        _link = null;
    }

    // Met in 1 of the 5 runs of 2026-12-02 10:00 UTC on the shared 2-core machine (load average 30-70), not reliably
    // (docs/BENCHMARKS.md, "A downlink that shrinks mid-call"): at that load the browsers themselves stall for seconds
    // (B, on loopback and never throttled, stood still for up to 3.5 s), the publisher's keyframe for the low layer
    // came 2 s after the move down while the top layer kept filling the 400 kbit/s link (A's audio fell short), and
    // a stall before the limit moved A down before the premise held. Run it alone, by name, to measure.
    [Test]
    [Explicit("met, but not reliably on a heavily loaded machine; see docs/BENCHMARKS.md")]
    public async Task DownlinkDropsTo400kbits_ThatSubscriberGoesToTheLowLayerWithoutLongFreezes_AndBackUp_TheOtherStaysOnTop()
    {
        var link = _link!;
        await StartServerAsync("urls=http://0.0.0.0:0", "Sfu:Media:BindAddress=0.0.0.0", $"Sfu:Media:AnnouncedAddress={link.ServerAddress}");
        const string room = "downlink";

        var publisher = await OpenAsync("publisher", room, publish: true);
        await publisher.WaitForAsync("document.querySelector('.tile.self .layer')?.textContent === 'sending 320x240 + 640x480'",
            "the publisher sending both layers at full size", TimeSpan.FromSeconds(60));

        // A opens the page by the server's address on the link: not a secure context, which a receiver does not need.
        var aPage = await _inside!.NewPageAsync("a");
        await aPage.GotoAsync($"http://{link.ServerAddress}:{Server.HttpBase.Port}/?room={room}&name=a&publish=0&autostart=1");
        var a = new SdkPage("a", aPage);
        var b = await OpenAsync("b", room);
        foreach (var page in new[] { a, b })
        {
            await page.WaitForAsync("window.demo.client?.remoteTracks.find(r => r.kind === 'video')?.layer.index === 1",
                $"{page.Label} on the top layer", TimeSpan.FromSeconds(30));
        }
        var aPeer = await a.PeerIdAsync();
        var bPeer = await b.PeerIdAsync();
        var publisherPeer = await publisher.PeerIdAsync();
        await SteadyOnTopAsync(room, publisherPeer, a, b);

        TestContext.Out.WriteLine("t_s   phase      estimate_kbps  b_estimate  layers_kbps  a_layer  a_width  a_video_kbps  a_audio_pkts  a_audio_lost  a_freezes  a_freeze_s  b_layer  b_width  rtx  nacks  plis_in  plis_out  probes  a_label");
        var samples = new List<Sampled>();
        var started = DateTime.UtcNow;
        var throttleAt = Before.TotalSeconds;
        var liftAt = throttleAt + Throttled.TotalSeconds;
        var end = liftAt + After.TotalSeconds;
        Received? previous = null;
        var previousMetrics = await MetricsSnapshot.ScrapeAsync(Server);
        var throttled = false;
        try
        {
            for (var t = 0.0; t <= end; t += Sample.TotalSeconds)
            {
                var wait = started + TimeSpan.FromSeconds(t) - DateTime.UtcNow;
                if (wait > TimeSpan.Zero) await Task.Delay(wait);
                if (!throttled && t >= throttleAt && t < liftAt)
                {
                    link.LimitDownlink(ThrottledRate, TimeSpan.FromMilliseconds(200));
                    throttled = true;
                }
                else if (throttled && t >= liftAt)
                {
                    link.Unlimit();
                    throttled = false;
                }
                var (aNow, bNow) = (await ReceivedAsync(a), await ReceivedAsync(b));
                var phase = t < throttleAt ? "unlimited" : t < liftAt ? "400kbit" : "lifted";
                var estimate = await EstimateOfAsync(room, aPeer);
                var estimateOfB = await EstimateOfAsync(room, bPeer);
                var rates = await LayerRatesOfAsync(room, publisherPeer);
                var layers = string.Join('/', rates.Select(r => r / 1000));
                // The server's side of the same half second (A's and B's together; B, unthrottled, adds next to nothing).
                var metrics = await MetricsSnapshot.ScrapeAsync(Server);
                string Delta(string name) => (metrics.Sum(name) - previousMetrics.Sum(name)).ToString(CultureInfo.InvariantCulture);
                var server = $"{Delta("sfu_media_retransmissions_total"),4}  {Delta("sfu_media_nacks_received_total"),5}  {Delta("sfu_media_keyframe_requests_received_total"),7}  {Delta("sfu_media_keyframe_requests_sent_total"),8}  {Delta("sfu_media_probe_packets_sent_total"),6}";
                previousMetrics = metrics;
                var videoKbps = previous is null ? 0 : (aNow.VideoBytes - previous.VideoBytes) * 8 / Sample.TotalSeconds / 1000;
                TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{t,5:F1}  {phase,-9}  {estimate / 1000,13}  {estimateOfB / 1000,10}  {layers,11}  {aNow.Layer,7}  {aNow.Width,7}  {videoKbps,12:F0}  {aNow.AudioPackets,12}  {aNow.AudioLost,12}  {aNow.Freezes,9}  {aNow.FreezeSeconds,10:F2}  {bNow.Layer,7}  {bNow.Width,7}  {server}  {aNow.Label}"));
                samples.Add(new Sampled(t, estimate, rates.Length > 0 && rates[^1] > 0, aNow, bNow));
                previous = aNow;
            }
        }
        finally
        {
            if (throttled) link.Unlimit();
        }

        AssertTheFigures(samples, throttleAt, liftAt);
    }

    /// <summary>
    /// Waits until the publisher has sent its top layer, and A and B have received it, for 5 s running: the premise
    /// of what is measured. A machine too loaded for the publisher's own estimate to carry both layers (its browser
    /// then drops the top one now and then) leaves nothing to judge, and the test says so rather than pass or fail.
    /// </summary>
    private async Task SteadyOnTopAsync(string room, string publisherPeer, SdkPage a, SdkPage b)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        DateTime? steadySince = null;
        while (DateTime.UtcNow < deadline)
        {
            var (aNow, bNow) = (await ReceivedAsync(a), await ReceivedAsync(b));
            var onTop = (await LayerRatesOfAsync(room, publisherPeer)).LastOrDefault() > 0 && aNow is { Layer: "1", Width: 640 } && bNow is { Layer: "1", Width: 640 };
            steadySince = onTop ? steadySince ?? DateTime.UtcNow : null;
            if (steadySince is { } since && DateTime.UtcNow - since >= TimeSpan.FromSeconds(5)) return;
            await Task.Delay(Sample);
        }
        Assert.Inconclusive("the publisher's top layer never reached both subscribers for 5 s running within 60 s (an overloaded machine): nothing to measure");
    }

    private static void AssertTheFigures(List<Sampled> samples, double throttleAt, double liftAt)
    {
        var atThrottle = samples.First(s => s.T >= throttleAt);
        var oneSecondIn = samples.First(s => s.T >= throttleAt + 1);
        var last = samples[^1];
        var down = samples.FirstOrDefault(s => s.T >= throttleAt && s.T < liftAt && s.A.Width is > 0 and < 640);
        // Back on top is timed from when A could be: the lift, or the publisher's top layer arriving again after it
        // (its own estimate may drop that layer now and then on a loaded machine).
        var topBackAt = samples.Where(s => s.T >= liftAt).SkipWhile(s => !s.TopLayerArrives).Select(s => s.T).DefaultIfEmpty(liftAt).First();
        var backUp = samples.FirstOrDefault(s => s.T >= topBackAt && s.A.Width == 640 && s.A.Layer == "1");
        // B can only be on the top layer while the publisher sends it: judged where the server has seen the top
        // layer for the last 4 s (a move up waits 2 s and a keyframe).
        var bOffTop = samples.Where((s, i) => s.T >= throttleAt && samples.Take(i + 1).TakeLast(9).All(p => p.TopLayerArrives))
            .Where(s => s.B.Layer != "1" || s.B.Width != 640).Select(s => $"{s.T:F1} s: {s.B.Layer} {s.B.Width}").ToList();

        // What the publisher's own browser delivers (B's figures) is the yardstick for A's video and audio.
        var (aStall, bStall) = (LongestStall(samples, throttleAt, r => r.A.FramesDecoded), LongestStall(samples, throttleAt, r => r.B.FramesDecoded));
        var audioShortfall = samples.Where(s => s.T >= throttleAt + 1)
            .Zip(samples.Where(s => s.T >= throttleAt + 2), (from, to) => (from, to))
            .Where(p => p.to.T - p.from.T is > 0.99 and < 1.01)
            .Select(p => (p.to.B.AudioPackets - p.from.B.AudioPackets) - (p.to.A.AudioPackets - p.from.A.AudioPackets))
            .DefaultIfEmpty(0)
            .Max();
        var lostAfterFirstSecond = last.A.AudioLost - oneSecondIn.A.AudioLost;
        var receivedAfterFirstSecond = last.A.AudioPackets - oneSecondIn.A.AudioPackets;
        var freezeSeconds = last.A.FreezeSeconds - atThrottle.A.FreezeSeconds;

        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"down after {(down is null ? "-" : $"{down.T - throttleAt:F1} s")}, back on top {(backUp is null ? "-" : $"{backUp.T - topBackAt:F1} s")} after it could be " +
            $"(limit lifted at {liftAt:F1} s, top layer arriving from {topBackAt:F1} s); longest stall A {aStall:F1} s, B {bStall:F1} s; " +
            $"A's freezes {last.A.Freezes - atThrottle.A.Freezes} ({freezeSeconds:F2} s); A's audio at most {audioShortfall} packets/s short of B's, " +
            $"{lostAfterFirstSecond} of {receivedAfterFirstSecond} lost after the first second"));

        Assert.Multiple(() =>
        {
            Assert.That(atThrottle.A.Width, Is.EqualTo(640), "the premise: A was on the top layer when its link shrank");
            Assert.That(samples.Where(s => s.T >= throttleAt && s.T < liftAt).Select(s => s.A.Label), Has.Some.EqualTo("320x240 · low"),
                "A's page says it shows the low layer");
            // How soon A switched down and back up is printed above, not asserted: the throttled window and the samples
            // after the lift are the bounds.
            Assert.That(down, Is.Not.Null, "A receives a smaller picture while its downlink is 400 kbit/s");
            Assert.That(audioShortfall, Is.LessThanOrEqualTo(25), "A's audio keeps flowing: every second at least half of B's (Opus sends 50 packets/s)");
            Assert.That(lostAfterFirstSecond, Is.LessThanOrEqualTo(Math.Max(5, receivedAfterFirstSecond / 50)), "no audio loss beyond the first second (2 %)");
            Assert.That(aStall, Is.LessThanOrEqualTo(Math.Max(1.5, bStall + 0.5)), "A's video stood still no longer than about a second (or than B's)");
            Assert.That(backUp, Is.Not.Null, "A is back on the top layer after the limit is lifted");
            Assert.That(samples.Where(s => s.T >= throttleAt).Select(s => s.B.Layer), Has.None.EqualTo("paused"), "B is never paused");
            Assert.That(bOffTop, Is.Empty, "B stays on the top layer whenever the publisher sends it");
        });
    }

    /// <summary>The longest time a decoded frame count stood still from <paramref name="from"/> on (seconds, to the sampling's 0.5 s).</summary>
    private static double LongestStall(List<Sampled> samples, double from, Func<Sampled, long> framesDecoded)
    {
        var longest = 0.0;
        var lastProgress = samples.First(s => s.T >= from);
        foreach (var s in samples.Where(s => s.T > from))
        {
            if (framesDecoded(s) == framesDecoded(lastProgress)) continue;
            longest = Math.Max(longest, s.T - lastProgress.T - Sample.TotalSeconds);
            lastProgress = s;
        }
        return Math.Max(longest, samples[^1].T - lastProgress.T);
    }

    /// <summary>The server's estimate of A's downlink (bits/s), read from its subscribe transport on the media worker.</summary>
    private Task<long> EstimateOfAsync(string room, string peerId) =>
        Server.Services.GetRequiredService<SignalingService>().Rooms.Find(room)?.Media?.InspectAsync(router => router.FindSubscriber(peerId)?.EstimatedBitrate ?? 0)
        ?? Task.FromResult(0L);

    /// <summary>What the server measures of each layer of the publisher's video (bits/s, lowest first).</summary>
    private Task<long[]> LayerRatesOfAsync(string room, string peerId) =>
        Server.Services.GetRequiredService<SignalingService>().Rooms.Find(room)?.Media?.InspectAsync(router =>
            router.FindPublisher(peerId)?.Producers.Where(p => p.Layers.Count > 1).SelectMany(p => p.Layers).Select(l => l.Bitrate).ToArray() ?? [])
        ?? Task.FromResult(Array.Empty<long>());

    private static async Task<Received> ReceivedAsync(SdkPage page)
    {
        var r = await page.Page.EvaluateAsync<JsonElement>(ReceivedScript);
        Assert.That(r.ValueKind, Is.EqualTo(JsonValueKind.Object), $"{page.Label} has a subscribe connection");
        return new Received(
            r.GetProperty("width").GetInt32(),
            r.GetProperty("framesDecoded").GetInt64(),
            r.GetProperty("freezes").GetInt64(),
            r.GetProperty("freezeSeconds").GetDouble(),
            r.GetProperty("videoBytes").GetInt64(),
            r.GetProperty("audioPackets").GetInt64(),
            r.GetProperty("audioLost").GetInt64(),
            r.GetProperty("layer").GetString()!,
            r.GetProperty("label").GetString()!);
    }

    private sealed record Sampled(double T, long Estimate, bool TopLayerArrives, Received A, Received B);

    private sealed record Received(
        int Width, long FramesDecoded, long Freezes, double FreezeSeconds, long VideoBytes, long AudioPackets, long AudioLost, string Layer, string Label);
}
