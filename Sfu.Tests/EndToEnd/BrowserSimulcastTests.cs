using System.Text.Json;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.EndToEnd;

/// <summary>
/// Real Chromium publishing simulcast the way applications ask for it (<c>sendEncodings</c> with rids, the small
/// layer first), and a second page receiving it through the SDK. The publisher is a bare page of this test (its
/// own WebSocket and RTCPeerConnection), so the SDK's own publishing choices play no part.
/// </summary>
[Category("Media")]
public sealed class BrowserSimulcastTests : BrowserTestBase
{
    // Joins the room on the signaling protocol, publishes the fake camera (and microphone) with the given
    // encodings (and, when `codec` names one, that video codec only), and keeps the socket alive; returns once the
    // answer is applied.
    internal const string PublishScript = """
        async ({ room, encodings, codec }) => {
          const ws = new WebSocket(`ws://${location.host}/ws`, 'sfu.v1');
          await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
          let nextId = 0;
          const pending = new Map();
          ws.onmessage = e => {
            const message = JSON.parse(e.data);
            if (message.type === 'response' && pending.has(message.id)) { pending.get(message.id)(message); pending.delete(message.id); }
          };
          const request = body => new Promise(resolve => { const id = ++nextId; pending.set(id, resolve); ws.send(JSON.stringify({ id, ...body })); });
          const joined = await request({ type: 'join', room, name: 'simulcast-publisher', autoSubscribe: false });
          if (!joined.ok) throw new Error('join: ' + JSON.stringify(joined.error));
          setInterval(() => request({ type: 'ping' }), joined.timing.pingIntervalMs);
          const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
          const pc = new RTCPeerConnection();
          pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly' });
          const video = pc.addTransceiver(stream.getVideoTracks()[0], { direction: 'sendonly', sendEncodings: encodings });
          if (codec) {
            const codecs = RTCRtpSender.getCapabilities('video').codecs;
            const rtx = codecs.filter(c => c.mimeType === 'video/rtx');
            video.setCodecPreferences([...codecs.filter(c => c.mimeType === `video/${codec}`), ...rtx]);
          }
          await pc.setLocalDescription(await pc.createOffer());
          const answer = await request({ type: 'publish', sdp: pc.localDescription.sdp });
          if (!answer.ok) throw new Error('publish: ' + JSON.stringify(answer.error));
          await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
          window.simulcastPublisher = { pc, ws, answer: answer.sdp };
          return answer.sdp;
        }
        """;

    // What the subscriber decodes, and what the publisher sends per rid.
    private const string InboundVideoScript = """
        async () => {
          const pc = window.demo.client.subscribeConnection;
          if (!pc) return { framesDecoded: 0, frameWidth: 0 };
          const video = [...(await pc.getStats()).values()].filter(s => s.type === 'inbound-rtp' && s.kind === 'video');
          return { framesDecoded: video.reduce((n, s) => n + (s.framesDecoded ?? 0), 0), frameWidth: Math.max(0, ...video.map(s => s.frameWidth ?? 0)) };
        }
        """;

    private const string OutboundLayersScript = """
        async () => [...(await window.simulcastPublisher.pc.getStats()).values()]
          .filter(s => s.type === 'outbound-rtp' && s.kind === 'video')
          .map(s => `${s.rid}: ${s.frameWidth ?? 0}x${s.frameHeight ?? 0} ${s.framesEncoded ?? 0} frames ${s.bytesSent ?? 0} bytes`).join('; ')
        """;

    [SetUp]
    public Task StartServerWithMediaOnLoopback() => StartServerAsync("Sfu:Media:AnnouncedAddress=127.0.0.1");

    [TestCase(2)]
    [TestCase(3)]
    public async Task SimulcastPublisher_IsDecodedByTheSubscriber(int layers)
    {
        var room = $"simulcast-{layers}";
        // Smallest first, each twice the size of the one before, as sendEncodings are usually written.
        var encodings = Enumerable.Range(0, layers)
            .Select(i => new { rid = new[] { "q", "h", "f" }[i], scaleResolutionDownBy = (double)(1 << (layers - 1 - i)), maxBitrate = 150_000 << (2 * i) })
            .ToArray();
        var publisher = await Browser.NewPageAsync("publisher");
        await publisher.GotoAsync(new Uri(Server.HttpBase, "/").ToString());
        var answer = await publisher.EvaluateAsync<string>(PublishScript, new { room, encodings });
        Assert.That(answer, Does.Contain("a=simulcast:recv " + string.Join(';', encodings.Select(e => e.rid))));

        var subscriber = await OpenAsync("subscriber", room);
        await subscriber.WaitForStateAsync("connected");
        await subscriber.WaitForAsync("window.demo.client.subscribeConnection?.connectionState === 'connected'", "the subscribe connection");

        var decoded = await WaitForFramesAsync(subscriber, 30);
        TestContext.Out.WriteLine($"publisher sends {await publisher.EvaluateAsync<string>(OutboundLayersScript)}");
        TestContext.Out.WriteLine($"subscriber decoded {decoded.GetProperty("framesDecoded")} frames, {decoded.GetProperty("frameWidth")} wide");
        var metrics = await MetricsSnapshot.ScrapeAsync(Server);
        Assert.Multiple(() =>
        {
            Assert.That(decoded.GetProperty("framesDecoded").GetInt64(), Is.GreaterThanOrEqualTo(30), "video frames are decoded");
            Assert.That(decoded.GetProperty("frameWidth").GetInt32(), Is.GreaterThan(0));
            Assert.That(metrics["sfu_media_dropped_total{reason=\"unknown-stream\"}"], Is.Zero, "every layer and its RTX was recognised");
        });
    }

    /// <summary>Polls the subscriber's decoded frame count until it reaches <paramref name="frames"/> (or 20 s pass).</summary>
    private static async Task<JsonElement> WaitForFramesAsync(SdkPage page, long frames)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        JsonElement stats;
        do
        {
            await Task.Delay(250);
            stats = await page.Page.EvaluateAsync<JsonElement>(InboundVideoScript);
        }
        while (stats.GetProperty("framesDecoded").GetInt64() < frames && DateTime.UtcNow < deadline);
        return stats;
    }
}
