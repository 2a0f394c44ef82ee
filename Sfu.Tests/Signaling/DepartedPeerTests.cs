using System.Text.Json;
using Sfu.Tests.Infrastructure;
using Sfu.Tests.Media.Sdp;

namespace Sfu.Tests.Signaling;

/// <summary>
/// Requests already on the wire when a peer leaves act for nobody: they must not re-create media state for the
/// departed peer (which nothing would ever free) nor show its tracks to the others.
/// </summary>
public sealed class DepartedPeerTests : ServerTest
{
    [Test]
    public async Task PublishSentRightAfterLeave_CreatesNoTransport_AndOthersSeeNoTrack()
    {
        var (observer, _) = await Server.JoinAsync("r", "observer");
        await using var _ = observer;

        for (var cycle = 0; cycle < 5; cycle++)
        {
            using var leaver = await RawWebSocketClient.ConnectAsync(Server);
            await leaver.SendTogetherAsync("""{"id":0,"type":"join","room":"r"}""");
            await leaver.ReadFrameAsync();
            await observer.NextEventAsync("peer-joined");
            // Both reach the server in one TCP segment, so the publish is read right after the leave was handled.
            var publish = JsonSerializer.Serialize(new { id = 2, type = "publish", sdp = SdpFixtures.Load(SdpFixtures.ChromeSendOnly) });
            await leaver.SendTogetherAsync("""{"id":1,"type":"leave"}""", publish);
            await observer.NextEventAsync("peer-left");
            // The server's read loop gets to this close answer only after it handled the publish.
            await leaver.AnswerCloseAsync();
            await Eventually.MetricIsAsync(Server, "sfu_sockets", 1);
        }

        var metrics = await MetricsSnapshot.ScrapeAsync(Server);
        Assert.Multiple(() =>
        {
            Assert.That(metrics["sfu_media_transports"], Is.Zero, "no transport survives a departed peer");
            Assert.That(observer.Unread().Select(m => m.Event()), Has.None.EqualTo("track-published").And.None.EqualTo("subscribe-offer"));
        });
    }
}
