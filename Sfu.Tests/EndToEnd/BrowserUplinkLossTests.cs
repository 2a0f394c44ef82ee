using System.Runtime.Versioning;
using System.Text.Json;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.EndToEnd;

/// <summary>
/// A publisher whose uplink loses video, in real Chromium: a publisher and a subscriber page in one Chromium inside a
/// network namespace whose only link to the server is a veth pair, where nftables drops 5 % of the VP8 packets the
/// publisher sends (its RTX retransmissions, another payload type, pass). The server NACKs what it misses and forwards
/// the retransmissions in their place, so the subscriber's own getStats shows no loss. Skipped, with the reason, where
/// the machine cannot create network namespaces.
/// </summary>
[Category("Media")]
[NonParallelizable]
public sealed class BrowserUplinkLossTests : NamespacedBrowserTestBase<VethNetwork>
{
    private const int LossPercent = 5;
    private static readonly TimeSpan Lossy = TimeSpan.FromSeconds(15);

    private const string SubscriberScript = """
        async () => {
          const pc = window.demo.client?.subscribeConnection;
          const stats = pc ? [...(await pc.getStats()).values()] : [];
          const video = stats.filter(s => s.type === 'inbound-rtp' && s.kind === 'video');
          const sum = key => video.reduce((total, s) => total + (s[key] ?? 0), 0);
          return { received: sum('packetsReceived'), lost: sum('packetsLost'), decoded: sum('framesDecoded'),
                   freezes: sum('freezeCount'), nacks: sum('nackCount') };
        }
        """;

    private const string PublisherScript = """
        async () => {
          const pc = window.demo.client?.publishConnection;
          const stats = pc ? [...(await pc.getStats()).values()] : [];
          const video = stats.filter(s => s.type === 'outbound-rtp' && s.kind === 'video');
          const codec = stats.find(s => s.type === 'codec' && s.id === video[0]?.codecId);
          const sum = key => video.reduce((total, s) => total + (s[key] ?? 0), 0);
          return { sent: sum('packetsSent'), retransmitted: sum('retransmittedPacketsSent'), nacks: sum('nackCount'),
                   payloadType: codec?.payloadType ?? -1 };
        }
        """;

    [SupportedOSPlatform("linux")] // VethNetwork.Create has the test ignored elsewhere
    protected override VethNetwork CreateNetwork() => VethNetwork.Create("upl", subnetOctet: 221);

    [Test]
    public async Task PublisherUplinkLosesSomeVideo_TheServerRepairsIt_AndTheSubscriberSeesNoLoss()
    {
        var link = Network;
        var origin = await StartServerAndBrowserAsync(link.ServerAddress, link.Inside);
        var publisher = await OpenAsync(origin, "publisher", publish: true);
        var subscriber = await OpenAsync(origin, "subscriber", publish: false);
        await subscriber.WaitForAsync("window.demo.client.subscribeConnection?.connectionState === 'connected'", "the subscriber's media connection",
            TimeSpan.FromSeconds(30));
        await WaitForDecodedAsync(subscriber, 60);

        var payloadType = (await StatsAsync(publisher, PublisherScript)).GetProperty("payloadType").GetInt32();
        Assert.That(payloadType, Is.GreaterThanOrEqualTo(96), "the publisher's video payload type");
        var subscriberBefore = await StatsAsync(subscriber, SubscriberScript);
        var publisherBefore = await StatsAsync(publisher, PublisherScript);
        var recoveredBefore = (await MetricsSnapshot.ScrapeAsync(Server))["sfu_media_publisher_packets_recovered_total"];
        link.LoseOutgoingRtp(payloadType, LossPercent);
        await Task.Delay(Lossy);
        var subscriberAfter = await StatsAsync(subscriber, SubscriberScript);
        var publisherAfter = await StatsAsync(publisher, PublisherScript);
        var metrics = await MetricsSnapshot.ScrapeAsync(Server);

        long Delta(JsonElement before, JsonElement after, string key) => after.GetProperty(key).GetInt64() - before.GetProperty(key).GetInt64();
        var sent = Delta(publisherBefore, publisherAfter, "sent");
        var retransmitted = Delta(publisherBefore, publisherAfter, "retransmitted");
        var received = Delta(subscriberBefore, subscriberAfter, "received");
        var lost = Delta(subscriberBefore, subscriberAfter, "lost");
        var freezes = Delta(subscriberBefore, subscriberAfter, "freezes");
        var decoded = Delta(subscriberBefore, subscriberAfter, "decoded");
        var recovered = metrics["sfu_media_publisher_packets_recovered_total"] - recoveredBefore;
        TestContext.Out.WriteLine($"{Lossy.TotalSeconds} s at {LossPercent} % uplink video loss (pt {payloadType}): publisher sent {sent} video packets, " +
            $"retransmitted {retransmitted}; server NACKs {metrics["sfu_media_publisher_nacks_sent_total"]}, recovered {recovered}, " +
            $"gave up {metrics["sfu_media_publisher_nack_give_ups_total{reason=\"retries\"}"]} (retries); subscriber received {received}, " +
            $"lost {lost}, decoded {decoded} frames, {freezes} freezes, sent {Delta(subscriberBefore, subscriberAfter, "nacks")} NACKs");

        Assert.Multiple(() =>
        {
            Assert.That(retransmitted, Is.GreaterThan(sent * LossPercent / 400), "the losses happened, and the publisher answered the server's NACKs");
            Assert.That(recovered, Is.GreaterThan(sent * LossPercent / 400), "the server forwarded what they recovered");
            Assert.That(lost, Is.LessThanOrEqualTo(received / 500), "the subscriber saw (almost) none of the uplink's loss");
            Assert.That(freezes, Is.LessThanOrEqualTo(1));
        });
    }

    private Task<SdkPage> OpenAsync(Uri origin, string label, bool publish) => OpenAsync(origin, "uplink", label, publish);

    private static Task WaitForDecodedAsync(SdkPage subscriber, int frames) =>
        subscriber.WaitForAsync(
            $"(window.__decoded = window.__decoded ?? 0, window.demo.client.subscribeConnection.getStats().then(r => {{ for (const s of r.values()) if (s.type === 'inbound-rtp' && s.kind === 'video') window.__decoded = s.framesDecoded; }}), window.__decoded > {frames})",
            $"{frames} frames decoded", TimeSpan.FromSeconds(30));

    private static Task<JsonElement> StatsAsync(SdkPage page, string script) => page.Page.EvaluateAsync<JsonElement>(script);
}
