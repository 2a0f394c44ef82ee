using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Rebinding;

/// <summary>The media scenarios of <c>simulate</c>, which tests and SDK developers use to provoke recovery on demand.</summary>
[Category("Media")]
[NonParallelizable]
public sealed class FaultInjectionTests
{
    [Test]
    public async Task PauseMedia_StopsMediaToTheClientForTheDuration_ThenItFlowsAgain()
    {
        await using var server = await SfuTestServer.StartAsync(null, "Sfu:Signaling:AllowSimulate=true");
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: false);

        await call.SubscriberSignaling.SimulateAsync("pause-media", 1500);
        await Task.Delay(200); // what was already in flight lands
        var paused = call.VideoPackets;
        await Task.Delay(600);
        var stillPaused = call.VideoPackets;
        await call.UntilAsync(() => call.VideoPackets > paused + 60, "video flows again after the pause");

        Assert.That(stillPaused, Is.EqualTo(paused), "nothing arrived during the pause");
    }

    [Test]
    public async Task ForgetPath_DropsTheClientsAddress_MediaComesBackWithItsNextCheck()
    {
        await using var server = await SfuTestServer.StartAsync(null, "Sfu:Signaling:AllowSimulate=true");
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: false);

        await call.SubscriberSignaling.SimulateAsync("forget-path", null);
        var packets = call.VideoPackets;
        await call.UntilAsync(() => call.VideoPackets > packets + 60, "video is back after the client's next check");

        var metrics = await MetricsSnapshot.ScrapeAsync(server);
        Assert.That(metrics["sfu_media_rebinds_total{direction=\"subscribe\",trigger=\"restored\"}"], Is.EqualTo(1),
            "the forgotten path was found again through an authenticated check");
    }
}
