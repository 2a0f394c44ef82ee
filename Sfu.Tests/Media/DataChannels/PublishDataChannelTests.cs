using System.Text;
using Sfu.Media.DataChannels;
using Sfu.Media.Sctp;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.DataChannels;

/// <summary>
/// A client with Chromium's data channel offer against the real server: ICE check, DTLS, then SCTP over it from both
/// ends at once (crossing INITs), a DCEP OPEN the server acknowledges, and messages the server counts.
/// </summary>
public sealed class PublishDataChannelTests : ServerTest
{
    [Test]
    public async Task ChannelOpenedOnThePublishTransport_IsAcknowledged_AndItsMessagesAreCounted()
    {
        var (publisher, _) = await Server.JoinAsync("r");
        await using var _ = publisher;
        using var peer = await DataChannelTestPeer.PublishAsync(publisher);
        var client = peer.Client;
        var link = peer.Link;

        var channel = client.Channels.Open(new DataChannelParameters("chat"))!;
        const int count = 200;
        long bytes = 0;
        for (var i = 0; i < count; i++)
        {
            var payload = Encoding.UTF8.GetBytes($"message {i}");
            bytes += payload.Length;
            Assert.That(client.Channels.Send(channel, isString: true, payload), Is.EqualTo(SctpSendStatus.Queued));
        }
        await link.PumpUntilAsync(() => channel.Acknowledged && client.Channels.Association.BufferedAmount == 0, "the OPEN is acknowledged and every message acked");

        await Eventually.MetricReachesAsync(Server, "sfu_media_datachannel_messages_total{direction=\"received\"}", count + 1);
        var metrics = await MetricsSnapshot.ScrapeAsync(Server);
        Assert.Multiple(() =>
        {
            Assert.That(metrics["sfu_media_datachannel_messages_total{direction=\"received\"}"], Is.EqualTo(count + 1), "the OPEN and every message, once");
            Assert.That(metrics["sfu_media_datachannel_bytes_total{direction=\"received\"}"], Is.EqualTo(bytes + channel.Parameters.EncodedLength));
            Assert.That(metrics["sfu_media_datachannel_messages_total{direction=\"sent\"}"], Is.EqualTo(1), "the ACK");
            Assert.That(metrics["sfu_media_sctp_associations_established_total"], Is.EqualTo(1), "crossing INITs make one association");
            Assert.That(metrics["sfu_media_datachannel_dropped_total{reason=\"unknown-channel\"}"], Is.EqualTo(0));
            Assert.That(client.Channels.Association.State, Is.EqualTo(SctpAssociationState.Established));
        });
    }
}
