using Sfu.Media.Routing;
using Sfu.Media.Sdp;

namespace Sfu.Tests.Media.Routing;

public class BitrateAllocatorTests
{
    private const long Frequency = TimeSpan.TicksPerSecond;
    private static readonly long Second = TimeSpan.TicksPerSecond;

    // A three-layer simulcast video track: 150 kbit/s, 500 kbit/s, 1.5 Mbit/s.
    private static LayerAllocation Video(params long[] bitrates)
    {
        var allocation = new LayerAllocation(MediaKind.Video, bitrates.Length);
        for (var i = 0; i < bitrates.Length; i++) allocation.Layers[i] = new LayerFigures(bitrates[i], IsActive: true, Width: 320 << i, Height: 240 << i);
        return allocation;
    }

    private static LayerAllocation Simulcast() => Video(150_000, 500_000, 1_500_000);

    private static LayerAllocation Audio()
    {
        var allocation = new LayerAllocation(MediaKind.Audio, 1);
        allocation.Layers[0] = new LayerFigures(40_000, IsActive: true);
        return allocation;
    }

    private readonly BitrateAllocator _allocator = new(Frequency);

    [Test]
    public void NoEstimate_GivesEveryConsumerTheBestArrivingLayer()
    {
        var video = Simulcast();
        video.Layers[2] = video.Layers[2] with { IsActive = false };

        _allocator.Allocate(null, [video], 0);

        Assert.That(video.Layer, Is.EqualTo(1));
        Assert.That(video.Reason, Is.EqualTo(LayerChangeReason.LayerLost), "it started on the best layer, which never came");
    }

    [Test]
    public void AudioIsServedFirst_ThenVideoGetsWhatIsLeft()
    {
        var audio = Audio();
        var video = Simulcast();

        // 40 kbit/s of audio leaves 160 kbit/s: the 150 kbit/s layer fits, but not with the margin a move up needs...
        _allocator.Allocate(200_000, [audio, video], 0);
        Assert.That((audio.Layer, video.Layer), Is.EqualTo((0, 0)), "down at once, to the layer that fits");

        // ...and 180 kbit/s leaves 140: not even the lowest layer, so once that has lasted the pause hold the video
        // is paused, the audio is not.
        _allocator.Allocate(180_000, [audio, video], Second);
        _allocator.Allocate(180_000, [audio, video], 3 * Second);
        Assert.That((audio.Layer, video.Layer), Is.EqualTo((0, LayerAllocation.Paused)));
        Assert.That(video.Reason, Is.EqualTo(LayerChangeReason.Bandwidth));
    }

    [Test]
    public void ConsumersAreRaisedInTurns_SoEveryoneGetsTheLowestLayerBeforeAnyoneGetsMore()
    {
        var first = Simulcast();
        var second = Simulcast();
        var third = Simulcast();

        // 1 Mbit/s: three lowest layers (450k) then one step to the middle layer (+350k) fits, a second does not.
        _allocator.Allocate(1_000_000, [first, second, third], 0);

        Assert.That(new[] { first.Layer, second.Layer, third.Layer }, Is.EqualTo(new[] { 1, 0, 0 }));
    }

    [Test]
    public void MovingUp_WaitsUntilTheHigherLayerHasFittedForTheHoldTime()
    {
        var video = Simulcast();
        _allocator.Allocate(300_000, [video], 0);
        Assert.That(video.Layer, Is.EqualTo(0));

        _allocator.Allocate(5_000_000, [video], 1 * Second);
        _allocator.Allocate(5_000_000, [video], 2 * Second);
        Assert.That(video.Layer, Is.EqualTo(0), "one second of headroom is not enough");

        _allocator.Allocate(5_000_000, [video], 3 * Second);
        Assert.That(video.Layer, Is.EqualTo(2));
        Assert.That((video.Changed, video.Reason), Is.EqualTo((true, LayerChangeReason.Bandwidth)));
    }

    [Test]
    public void AnEstimateThatDipsDuringTheHold_RestartsIt()
    {
        var video = Simulcast();
        _allocator.Allocate(300_000, [video], 0);
        _allocator.Allocate(5_000_000, [video], 1 * Second);
        _allocator.Allocate(300_000, [video], 2 * Second);
        _allocator.Allocate(5_000_000, [video], 3 * Second);
        _allocator.Allocate(5_000_000, [video], 4 * Second);

        Assert.That(video.Layer, Is.EqualTo(0));
        _allocator.Allocate(5_000_000, [video], 5 * Second);
        Assert.That(video.Layer, Is.EqualTo(2));
    }

    [Test]
    public void AHigherLayerNeedsItsMargin_ButStayingOnALayerDoesNot()
    {
        var video = Simulcast();
        // 1.6 Mbit/s pays for the top layer (1.5M) but not its 15% margin: no move up...
        _allocator.Allocate(300_000, [video], 0);
        for (var t = 1; t <= 4; t++) _allocator.Allocate(1_600_000, [video], t * Second);
        Assert.That(video.Layer, Is.EqualTo(1));

        // ...while a consumer already on the top layer keeps it at the same estimate.
        var onTop = Simulcast();
        _allocator.Allocate(1_600_000, [onTop], 0);
        Assert.That(onTop.Layer, Is.EqualTo(2));
    }

    [Test]
    public void APausedConsumer_ClimbsBackWhenBandwidthReturns()
    {
        var video = Simulcast();
        _allocator.Allocate(60_000, [video], 0);
        Assert.That(video.Layer, Is.EqualTo(LayerAllocation.Paused));

        _allocator.Allocate(400_000, [video], 1 * Second);
        Assert.That(video.Layer, Is.EqualTo(LayerAllocation.Paused), "held");
        _allocator.Allocate(400_000, [video], 3 * Second);
        Assert.That(video.Layer, Is.EqualTo(0));
        Assert.That(video.Reason, Is.EqualTo(LayerChangeReason.Bandwidth));
    }

    [Test]
    public void APausedConsumer_OnANewLink_ResumesOnItsLowestLayerAtOnce_AndClimbsAfterTheHold()
    {
        var audio = Audio();
        var video = Simulcast();
        _allocator.Allocate(60_000, [audio, video], 0);
        Assert.That(video.Layer, Is.EqualTo(LayerAllocation.Paused), "the old link's estimate fell");

        // A path switch while the publisher is away too (nothing arrives): it waits for its layers.
        BitrateAllocator.OnNewLink([audio, video]);
        var arriving = video.Layers.ToArray();
        for (var i = 0; i < video.Layers.Length; i++) video.Layers[i] = video.Layers[i] with { IsActive = false };
        _allocator.Allocate(300_000, [audio, video], Second);
        Assert.That(video.Layer, Is.EqualTo(LayerAllocation.Paused));

        // They arrive: the fresh 300 kbit/s start pays for the lowest layer, given at once.
        arriving.CopyTo(video.Layers, 0);
        _allocator.Allocate(300_000, [audio, video], 2 * Second);
        Assert.That((video.Layer, video.Reason), Is.EqualTo((0, LayerChangeReason.Bandwidth)));

        // Then the estimate climbs: the next layer waits for its hold as usual.
        _allocator.Allocate(1_000_000, [audio, video], 3 * Second);
        Assert.That(video.Layer, Is.EqualTo(0), "held");
        _allocator.Allocate(1_000_000, [audio, video], 5 * Second);
        Assert.That(video.Layer, Is.EqualTo(1));
    }

    [Test]
    public void ALowestLayerThatDoesNotQuiteFit_IsKeptForThePauseHold_SoAShortDipFreezesNothing()
    {
        var audio = Audio();
        var video = Simulcast();
        _allocator.Allocate(1_000_000, [audio, video], 0);
        Assert.That(video.Layer, Is.EqualTo(1));

        // 150 kbit/s leaves 110 for a 150 kbit/s layer: down to it at once, but not paused...
        _allocator.Allocate(150_000, [audio, video], 1 * Second);
        Assert.That((video.Layer, video.Reason), Is.EqualTo((0, LayerChangeReason.Bandwidth)));
        _allocator.Allocate(150_000, [audio, video], 2 * Second);
        Assert.That(video.Layer, Is.EqualTo(0), "within the pause hold");

        // ...and the estimate comes back within the hold: the video never stopped.
        _allocator.Allocate(250_000, [audio, video], 2 * Second + Second / 2);
        _allocator.Allocate(150_000, [audio, video], 4 * Second);
        Assert.That(video.Layer, Is.EqualTo(0), "a new shortfall starts a new hold");
        _allocator.Allocate(150_000, [audio, video], 6 * Second);
        Assert.That((video.Layer, video.Reason), Is.EqualTo((LayerAllocation.Paused, LayerChangeReason.Bandwidth)), "a shortfall that lasts pauses it");
    }

    [Test]
    public void FarLessThanTheLowestLayer_PausesAtOnce()
    {
        var audio = Audio();
        var video = Simulcast();
        _allocator.Allocate(1_000_000, [audio, video], 0);

        // 100 kbit/s leaves 60 for a 150 kbit/s layer: sending it would crowd out the audio.
        _allocator.Allocate(100_000, [audio, video], Second);

        Assert.That((audio.Layer, video.Layer), Is.EqualTo((0, LayerAllocation.Paused)));
    }

    [Test]
    public void AnEstimateAtTheDesiredBitrate_PaysForTheMoveUp()
    {
        var audio = Audio();
        var video = Simulcast();
        _allocator.Allocate(600_000, [audio, video], 0);
        Assert.That(video.Layer, Is.EqualTo(1));

        // What the estimator probes for: the top layer and the margins, so the probe's result lets the move happen.
        var desired = audio.DesiredBitrate() + video.DesiredBitrate();
        Assert.That(desired, Is.EqualTo(40_000 + 1_500_000 + 450_000));
        for (var t = 1; t <= 3; t++) _allocator.Allocate(desired, [audio, video], t * Second);

        Assert.That(video.Layer, Is.EqualTo(2));
        Assert.That(video.DesiredBitrate(), Is.EqualTo(1_500_000), "on the top layer, only its own rate");
    }

    [Test]
    public void MaxLayerCap_IsApplied_AndRaisingItIsAnsweredAtOnce()
    {
        var video = Simulcast();
        video.SetPreferences(new LayerPreferences(MaxLayer: 0));
        _allocator.Allocate(null, [video], 0);
        Assert.That((video.Layer, video.Reason), Is.EqualTo((0, LayerChangeReason.Cap)));

        video.SetPreferences(new LayerPreferences(MaxLayer: 1));
        _allocator.Allocate(null, [video], Second / 2);
        Assert.That((video.Layer, video.Reason), Is.EqualTo((1, LayerChangeReason.Cap)), "no hold for the subscriber's own request");
    }

    [Test]
    public void SizeCap_PicksTheSmallestLayerThatCoversTheBox()
    {
        var video = Simulcast(); // 320x240, 640x480, 1280x960
        video.SetPreferences(new LayerPreferences(MaxWidth: 400, MaxHeight: 300));

        _allocator.Allocate(null, [video], 0);

        Assert.That(video.Layer, Is.EqualTo(1));
    }

    [Test]
    public void PausedBySubscriber_SendsNothing_EvenWithBandwidth_AndResumesAtOnce()
    {
        var audio = Audio();
        var video = Simulcast();
        video.SetPreferences(new LayerPreferences(Paused: true));
        audio.SetPreferences(new LayerPreferences(Paused: true));
        _allocator.Allocate(null, [audio, video], 0);
        Assert.That((audio.Layer, video.Layer), Is.EqualTo((LayerAllocation.Paused, LayerAllocation.Paused)));
        Assert.That(video.Reason, Is.EqualTo(LayerChangeReason.Cap));

        video.SetPreferences(LayerPreferences.None);
        _allocator.Allocate(null, [audio, video], Second / 10);
        Assert.That(video.Layer, Is.EqualTo(2));
    }

    [Test]
    public void CappedBelowEveryArrivingLayer_GetsTheLowestArrivingOneRatherThanNothing()
    {
        var video = Simulcast();
        video.Layers[0] = video.Layers[0] with { IsActive = false };
        video.SetPreferences(new LayerPreferences(MaxLayer: 0));

        _allocator.Allocate(null, [video], 0);

        Assert.That(video.Layer, Is.EqualTo(1));
    }

    [Test]
    public void LayerThatStopsArriving_IsLeftAtOnce_ForOneThatArrives()
    {
        var video = Simulcast();
        _allocator.Allocate(null, [video], 0);
        Assert.That(video.Layer, Is.EqualTo(2));

        video.Layers[2] = video.Layers[2] with { IsActive = false, Bitrate = 0 };
        _allocator.Allocate(null, [video], Second / 2);

        Assert.That((video.Layer, video.Reason), Is.EqualTo((1, LayerChangeReason.LayerLost)));
    }

    [Test]
    public void NothingArriving_KeepsTheConsumerWaitingOnItsLayer()
    {
        var video = new LayerAllocation(MediaKind.Video, 3);

        _allocator.Allocate(100_000, [video], 0);

        Assert.That((video.Layer, video.Changed), Is.EqualTo((2, false)));
    }

    [Test]
    public void SteadyEstimate_DoesNotFlap()
    {
        var video = Simulcast();
        var changes = 0;
        for (var t = 0; t < 40; t++)
        {
            // An estimate wobbling ±10% around the middle layer's need.
            _allocator.Allocate(t % 2 == 0 ? 540_000 : 660_000, [video], t * Second / 2);
            if (video.Changed) changes++;
        }

        Assert.That(video.Layer, Is.EqualTo(1));
        Assert.That(changes, Is.EqualTo(1), "one move down from the initial layer, then stable");
    }
}
