using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Sfu.Media;
using Sfu.Media.Diagnostics;
using Sfu.Media.Worker;
using Sfu.Tests.Infrastructure;
using Sfu.Tests.Media.Rebinding;

namespace Sfu.Tests.Media.Congestion;

/// <summary>Congestion feedback from the server to a real (C#) publisher that negotiated transport-cc and goog-remb.</summary>
[Category("Media")]
[NonParallelizable]
public sealed class PublisherFeedbackTests
{
    [Test]
    public async Task Publisher_GetsTransportCcFeedbackOnEveryPacket_InOrder_AndARembOfTheCeiling()
    {
        await using var server = await SfuTestServer.StartAsync(null, "Sfu:Media:MaxPublishBitrate=2500000");
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: false);

        await call.UntilAsync(() => call.Publisher.TransportFeedback.Count >= 20 && call.Publisher.RembBitrate > 0, "feedback and a REMB reach the publisher");

        var reports = call.Publisher.TransportFeedback.ToList();
        var sent = call.Publisher.TransportSequenceNumbersSent;
        var metrics = await MetricsSnapshot.ScrapeAsync(server);
        Assert.Multiple(() =>
        {
            for (var i = 1; i < reports.Count; i++)
            {
                Assert.That(reports[i].FeedbackPacketCount, Is.EqualTo((byte)(reports[i - 1].FeedbackPacketCount + 1)), "feedback packets are counted");
                Assert.That(reports[i].BaseSequenceNumber, Is.EqualTo((ushort)(reports[i - 1].BaseSequenceNumber + reports[i - 1].PacketStatusCount)),
                    "each feedback starts where the last one ended (loopback: nothing lost or reordered)");
            }
            Assert.That(reports.Select(r => r.ReceivedCount), Is.EqualTo(reports.Select(r => (int)r.PacketStatusCount)), "every packet reported received");
            var last = reports[^1];
            Assert.That(last.BaseSequenceNumber + last.PacketStatusCount - 1, Is.LessThanOrEqualTo(sent), "no sequence number reported before it was sent");
            Assert.That(call.Publisher.RembBitrate, Is.EqualTo(2_500_000), "REMB carries Sfu:Media:MaxPublishBitrate");
            Assert.That(metrics["sfu_media_feedback_sent_total{type=\"transport-cc\"}"], Is.GreaterThanOrEqualTo(reports.Count));
            Assert.That(metrics["sfu_media_feedback_sent_total{type=\"remb\"}"], Is.GreaterThanOrEqualTo(1));
        });
    }

    [Test]
    public void CeilingBelowTheMinimum_IsRefusedWhenTheWorkerStarts()
    {
        var options = new MediaOptions { Port = 0, BindAddress = "127.0.0.1", MaxPublishBitrate = 10_000 };

        Assert.That(() => new MediaWorker(options, TimeProvider.System, new MediaMetrics(Prometheus.Metrics.NewCustomRegistry()), NullLogger<MediaWorker>.Instance),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("Sfu:Media:MaxPublishBitrate"));
    }
}
