using Sfu.Media.Routing;
using Sfu.Media.Sdp;

namespace Sfu.Tests.Media.Routing;

/// <summary>
/// Simulcast through the real publish transport, producer, consumer and subscribe transport: layers learned from
/// the rid extension or an ssrc-group, one layer forwarded, switches at the new layer's keyframe with the
/// subscriber's sequence numbers and timestamps continuous, pause and resume.
/// </summary>
[Category("Media")]
public sealed class SimulcastForwardingTests
{
    private const uint LowSsrc = 0x1000_0001;
    private const uint HighSsrc = 0x1000_0002;
    private static readonly TimeSpan FrameInterval = TimeSpan.FromMilliseconds(33);

    private SimulcastHarness _call = null!;
    private ushort _lowSequence = 1000;
    private ushort _highSequence = 60000;
    private uint _lowTimestamp = 5000;
    private uint _highTimestamp = 3_000_000_000;

    // NUnit runs every test of the class on one instance: each starts from the same numbers.
    [SetUp]
    public void StartTheNumbersAfresh() => (_lowSequence, _highSequence, _lowTimestamp, _highTimestamp) = (1000, 60000, 5000, 3_000_000_000);

    [TearDown]
    public async Task TearDown() => await _call.DisposeAsync();

    [Test]
    public async Task RidLayers_AreLearnedFromTheRidExtension_AndRepairedRidMarksTheirRtx()
    {
        _call = SimulcastHarness.WithRids(CodecNames.Vp8, "q", "h");
        await _call.OnWorkerAsync(() =>
        {
            _call.Receive(HighSsrc, "h", 1, 0, keyframe: true, startOfFrame: true, marker: true);
            _call.Receive(LowSsrc, "q", 1, 0, keyframe: true, startOfFrame: true, marker: true);
            _call.Receive(0x1000_0003, "q", 1, 0, keyframe: false, startOfFrame: true, marker: true, repaired: true);
        });

        var layers = _call.Producer.Layers;
        Assert.That(layers.Select(l => (l.Rid, l.Ssrc, l.RtxSsrc)), Is.EqualTo(new (string?, uint?, uint?)[]
        {
            ("q", LowSsrc, 0x1000_0003), ("h", HighSsrc, null),
        }));
    }

    [Test]
    public async Task SsrcGroupSimulcast_TakesTheLayersInTheSignalledOrder()
    {
        _call = SimulcastHarness.WithSsrcGroup(CodecNames.Vp8, new SignalledStream(LowSsrc, 0x2000_0001), new SignalledStream(HighSsrc, 0x2000_0002));

        await FramesAsync(3, low: true, high: true, keyframeFirst: true);

        Assert.That(_call.Producer.Layers.Select(l => (l.Ssrc, l.RtxSsrc)), Is.EqualTo(new (uint?, uint?)[] { (LowSsrc, 0x2000_0001), (HighSsrc, 0x2000_0002) }));
        var sent = _call.TakeSubscriberRtp();
        Assert.That(sent, Has.Count.EqualTo(3), "one layer, the highest, forwarded");
    }

    [TestCase(CodecNames.Vp8)]
    [TestCase(CodecNames.H264)]
    public async Task LayerThatStopsArriving_IsReplacedByALowerOne_AtItsKeyframe_WithContinuousNumbering(string codec)
    {
        _call = SimulcastHarness.WithRids(codec, "q", "h");
        await FramesAsync(10, low: true, high: true, keyframeFirst: true);
        var before = _call.TakeSubscriberRtp();
        Assert.That(before, Has.Count.EqualTo(10));
        Assert.That(before.Select(p => p.Ssrc).Distinct(), Is.EqualTo(new[] { SimulcastHarness.ConsumerSsrc }));
        Assert.That(SequencesAreContinuous(before), "the high layer's numbers, offset but without gaps");
        _call.TakePublisherPlis();

        // The publisher drops its high layer (a starved encoder does): only low-layer delta frames for 1.5 s.
        await FramesAsync(45, low: true, high: false, keyframeFirst: false);
        Assert.That(_call.TakeSubscriberRtp(), Is.Empty, "no frame of the new layer before its keyframe");
        Assert.That(_call.TakePublisherPlis(), Does.Contain(LowSsrc), "the keyframe is asked of the low layer's SSRC");
        Assert.That(_call.Consumer.TargetLayer, Is.EqualTo(0));

        await FramesAsync(3, low: true, high: false, keyframeFirst: true);
        var after = _call.TakeSubscriberRtp();
        Assert.That(after, Has.Count.EqualTo(3));
        var last = before[^1];
        Assert.That(after[0].Sequence, Is.EqualTo((ushort)(last.Sequence + 1)), "continues at last + 1");
        // The gap in time (46 frames of 33 ms) shows in the timestamp, at 90 kHz, whatever the low layer's own base.
        Assert.That(after[0].Timestamp - last.Timestamp, Is.EqualTo(46u * 33 * 90));
        Assert.That(after[1].Timestamp - after[0].Timestamp, Is.EqualTo(33u * 90));
        Assert.That(_call.Consumer.CurrentLayer, Is.EqualTo(0));
        Assert.That(_call.Metrics.LayerChangeCount(LayerChangeReason.LayerLost), Is.EqualTo(1));
        Assert.That(_call.LayerEvents[^1], Is.EqualTo((0, false, LayerChangeReason.LayerLost)));
    }

    [Test]
    public async Task HigherLayerComingBack_IsTakenAfterTheHold_AtItsKeyframe()
    {
        _call = SimulcastHarness.WithRids(CodecNames.Vp8, "q", "h");
        // Within one allocation interval (500 ms) the consumer leaves the best layer, which does not arrive.
        await FramesAsync(16, low: true, high: false, keyframeFirst: true);
        Assert.That(_call.Consumer.TargetLayer, Is.EqualTo(0));
        Assert.That(_call.TakePublisherPlis(), Does.Contain(LowSsrc), "the low layer's first keyframe came before that");
        await FramesAsync(45, low: true, high: false, keyframeFirst: true);
        Assert.That(_call.Consumer.CurrentLayer, Is.EqualTo(0));
        _call.TakeSubscriberRtp();

        await FramesAsync(1, low: true, high: true, keyframeFirst: true);
        await FramesAsync(75, low: true, high: true, keyframeFirst: false);
        Assert.That(_call.Consumer.TargetLayer, Is.EqualTo(1));
        Assert.That(_call.Consumer.CurrentLayer, Is.EqualTo(0), "still the low layer until the high one's keyframe");
        var low = _call.TakeSubscriberRtp();

        await FramesAsync(2, low: true, high: true, keyframeFirst: true);
        var high = _call.TakeSubscriberRtp();
        Assert.That(_call.Consumer.CurrentLayer, Is.EqualTo(1));
        // The low layer's packet of that frame went first (the layer was still current), then the high layer's.
        Assert.That(high, Has.Count.EqualTo(3));
        Assert.That(SequencesAreContinuous([low[^1], .. high]));
        Assert.That(high[0].Timestamp - low[^1].Timestamp, Is.EqualTo(33u * 90));
        Assert.That(high[1].Timestamp - high[0].Timestamp, Is.EqualTo(1u), "the same instant on the new layer, one tick on so timestamps never repeat");
        Assert.That(high[2].Timestamp - high[1].Timestamp, Is.EqualTo(33u * 90));
    }

    [Test]
    public async Task PausedConsumer_SendsNothingAndAsksForNothing_ThenResumesAtAKeyframe()
    {
        _call = SimulcastHarness.WithRids(CodecNames.Vp8, "q", "h");
        await FramesAsync(5, low: true, high: true, keyframeFirst: true);
        var before = _call.TakeSubscriberRtp();

        await _call.OnWorkerAsync(() => _call.Subscriber.SetPreferences(_call.Producer.Id, new LayerPreferences(Paused: true)));
        _call.TakePublisherPlis();
        await FramesAsync(60, low: true, high: true, keyframeFirst: false);
        await FramesAsync(1, low: true, high: true, keyframeFirst: true);
        Assert.That(_call.TakeSubscriberRtp(), Is.Empty);
        Assert.That(_call.TakePublisherPlis(), Is.Empty);
        Assert.That(_call.LayerEvents[^1], Is.EqualTo((-1, true, LayerChangeReason.Cap)));

        await _call.OnWorkerAsync(() => _call.Subscriber.SetPreferences(_call.Producer.Id, new LayerPreferences(MaxLayer: 0)));
        await FramesAsync(2, low: true, high: true, keyframeFirst: false);
        Assert.That(_call.TakeSubscriberRtp(), Is.Empty, "resumes at a keyframe only");
        Assert.That(_call.TakePublisherPlis(), Does.Contain(LowSsrc).And.Not.Contain(HighSsrc));

        await FramesAsync(1, low: true, high: true, keyframeFirst: true);
        var after = _call.TakeSubscriberRtp();
        Assert.That(after, Has.Count.EqualTo(1));
        Assert.That(after[0].Sequence, Is.EqualTo((ushort)(before[^1].Sequence + 1)));
        Assert.That(_call.LayerEvents[^1], Is.EqualTo((0, false, LayerChangeReason.Cap)));
        Assert.That(_call.Metrics.LayerChangeCount(LayerChangeReason.Cap), Is.EqualTo(2));
    }

    [Test]
    public async Task TopLayerThatStops_TheLowerLayersNextKeyframeTakesOver_BeforeTheAllocatorMovesOff()
    {
        _call = SimulcastHarness.WithRids(CodecNames.Vp8, "q", "h");
        await FramesAsync(10, low: true, high: true, keyframeFirst: true);
        var before = _call.TakeSubscriberRtp();
        Assert.That(_call.Consumer.CurrentLayer, Is.EqualTo(1));
        _call.TakePublisherPlis();

        // The publisher drops its high layer (Chromium does when its estimate falls on a new network). Nine frames
        // later (297 ms) that is still a gap between frames; at the tenth (330 ms) it has stopped.
        await FramesAsync(9, low: true, high: false, keyframeFirst: false);
        Assert.That(_call.TakePublisherPlis(), Is.Empty);
        await FramesAsync(1, low: true, high: false, keyframeFirst: false);
        Assert.That(_call.TakePublisherPlis(), Is.EqualTo(new[] { LowSsrc }), "the layer that still arrives is asked for a keyframe");
        Assert.That(_call.TakeSubscriberRtp(), Is.Empty, "nothing of the low layer before its keyframe");

        await FramesAsync(1, low: true, high: false, keyframeFirst: true);
        var standIn = _call.TakeSubscriberRtp();
        Assert.That(standIn, Has.Count.EqualTo(1), "the low layer's keyframe restarts the picture");
        Assert.That(standIn[0].Sequence, Is.EqualTo((ushort)(before[^1].Sequence + 1)));
        Assert.That(_call.Consumer.CurrentLayer, Is.EqualTo(0));
        Assert.That(_call.Consumer.TargetLayer, Is.EqualTo(1), "0.36 s: the allocator still counts the high layer as arriving");
        await IdleAsync(TimeSpan.FromMilliseconds(40));
        Assert.That(_call.LayerEvents[^1], Is.EqualTo((0, false, LayerChangeReason.LayerLost)));
        Assert.That(_call.Metrics.LayerChangeCount(LayerChangeReason.LayerLost), Is.EqualTo(1), "the stand-in switch is counted");

        // The high layer comes back before the allocator gave up on it: its keyframe takes over again.
        await FramesAsync(1, low: true, high: true, keyframeFirst: true);
        Assert.That(_call.Consumer.CurrentLayer, Is.EqualTo(1));
        Assert.That(SequencesAreContinuous([.. standIn, .. _call.TakeSubscriberRtp()]));
    }

    [Test]
    public async Task LowerLayersKeyframe_ArrivingAsTheTopLayersSilencePassesTheGap_RestartsThePictureAtOnce()
    {
        _call = SimulcastHarness.WithRids(CodecNames.Vp8, "q", "h");
        await FramesAsync(10, low: true, high: true, keyframeFirst: true);
        var before = _call.TakeSubscriberRtp();

        // Both layers away (an outage); the low one comes back first, with a keyframe, before any tick has run.
        await IdleAsync(TimeSpan.FromMilliseconds(600));
        await _call.OnWorkerAsync(() => _call.Receive(LowSsrc, "q", _lowSequence++, _lowTimestamp, keyframe: true, startOfFrame: true, marker: true));

        var sent = _call.TakeSubscriberRtp();
        Assert.That(sent, Has.Count.EqualTo(1), "the keyframe of the low layer, the first packet after the silence");
        Assert.That(sent[0].Sequence, Is.EqualTo((ushort)(before[^1].Sequence + 1)));
        Assert.That(_call.Consumer.CurrentLayer, Is.EqualTo(0));
    }

    [Test]
    public async Task LayerBackAfterAnOutage_AsksAgainAtOnceForTheKeyframeRequestedDuringIt()
    {
        _call = SimulcastHarness.WithRids(CodecNames.Vp8, "q", "h");
        await FramesAsync(5, low: true, high: true, keyframeFirst: true);

        // The publisher's network goes away; after 1.5 s a keyframe is asked for, towards the path it left.
        await IdleAsync(TimeSpan.FromMilliseconds(1500));
        _call.TakePublisherPlis();
        await _call.OnWorkerAsync(() => _call.Producer.RequestKeyframe(1));
        Assert.That(_call.TakePublisherPlis(), Is.EqualTo(new[] { HighSsrc }));
        await IdleAsync(TimeSpan.FromMilliseconds(300));
        Assert.That(_call.TakePublisherPlis(), Is.Empty, "no retry within the interval");

        // Back on its new network, it sends a delta frame: it never got that request.
        await FramesAsync(1, low: false, high: true, keyframeFirst: false);
        Assert.That(_call.TakePublisherPlis(), Is.EqualTo(new[] { HighSsrc }), "asked again at once, 0.3 s into the interval");
        await FramesAsync(1, low: false, high: true, keyframeFirst: false);
        Assert.That(_call.TakePublisherPlis(), Is.Empty, "once per return");
    }

    [Test]
    public async Task Vp8TemporalCap_LeavesOutHigherTemporalLayers_WithoutGapsInTheSubscribersNumbers()
    {
        _call = SimulcastHarness.WithRids(CodecNames.Vp8, "q");
        await FramesAsync(1, low: true, high: false, keyframeFirst: true);
        await _call.OnWorkerAsync(() => _call.Subscriber.SetPreferences(_call.Producer.Id, new LayerPreferences(MaxTemporalLayer: 0)));

        // L1T3: TIDs 0 2 1 2, repeated, two packets a frame.
        int[] pattern = [0, 2, 1, 2, 0, 2, 1, 2, 0];
        await _call.OnWorkerAsync(() =>
        {
            foreach (var tid in pattern)
            {
                _call.Receive(LowSsrc, "q", _lowSequence++, _lowTimestamp, false, startOfFrame: true, marker: false, temporalId: tid);
                _call.Receive(LowSsrc, "q", _lowSequence++, _lowTimestamp, false, startOfFrame: false, marker: true, temporalId: tid);
                _lowTimestamp += 33 * 90;
            }
        });

        var sent = _call.TakeSubscriberRtp();
        Assert.That(sent, Has.Count.EqualTo(1 + (3 * 2)), "the keyframe, then the three base-layer frames");
        Assert.That(SequencesAreContinuous(sent));
        Assert.That(sent[^1].Timestamp - sent[1].Timestamp, Is.EqualTo(8u * 33 * 90), "timestamps are the frames' own");
    }

    [Test]
    public async Task MovingDownForBandwidth_SendsTheLayerBeingLeftAtItsBaseTemporalLayer_UntilTheLowerLayersKeyframe()
    {
        _call = SimulcastHarness.WithRids(CodecNames.Vp8, "q", "h");
        await FramesAsync(1, low: true, high: true, keyframeFirst: true);
        Assert.That(_call.Consumer.CurrentLayer, Is.EqualTo(1));
        var before = _call.TakeSubscriberRtp();
        _call.TakePublisherPlis();

        await MoveForBandwidthAsync(0);
        Assert.That(_call.TakePublisherPlis(), Is.EqualTo(new[] { LowSsrc }), "the lower layer's keyframe is asked for");

        // Its keyframe is slow to come; meanwhile the high layer's higher temporal layers stay off the link.
        await TemporalFramesAsync([0, 2, 1, 2, 0, 2, 1, 2]);
        var leaving = _call.TakeSubscriberRtp();
        Assert.That(leaving, Has.Count.EqualTo(2), "the high layer's two base-layer frames of eight");
        Assert.That(leaving[1].Timestamp - leaving[0].Timestamp, Is.EqualTo(4u * 33 * 90), "those frames, at their own times");

        await FramesAsync(1, low: true, high: false, keyframeFirst: true);
        await TemporalFramesAsync([0, 2, 1, 2]);
        var arrived = _call.TakeSubscriberRtp();
        Assert.That(_call.Consumer.CurrentLayer, Is.EqualTo(0));
        Assert.That(arrived, Has.Count.EqualTo(5), "the low layer's keyframe, then every frame of it");
        Assert.That(SequencesAreContinuous([before[^1], .. leaving, .. arrived]));
    }

    [Test]
    public async Task MovingBackBeforeTheSwitch_AsksForTheLeftLayersKeyframe_WhereItsFullFrameRateResumes()
    {
        _call = SimulcastHarness.WithRids(CodecNames.Vp8, "q", "h");
        await FramesAsync(1, low: true, high: true, keyframeFirst: true);
        await MoveForBandwidthAsync(0);
        _call.TakeSubscriberRtp();
        _call.TakePublisherPlis();

        await MoveForBandwidthAsync(1);
        Assert.That(_call.TakePublisherPlis(), Is.EqualTo(new[] { HighSsrc }), "the frames it left out are referenced until a keyframe");
        await TemporalFramesAsync([0, 2, 1, 2]);
        Assert.That(_call.TakeSubscriberRtp(), Has.Count.EqualTo(1), "still the base layer only before it");

        await FramesAsync(1, low: false, high: true, keyframeFirst: true);
        await TemporalFramesAsync([2, 1, 2]);
        Assert.That(_call.TakeSubscriberRtp(), Has.Count.EqualTo(4), "the keyframe, then every frame");
    }

    [Test]
    public async Task LayerRestartedUnderANewSsrc_IsForwardedOnFromItsKeyframe_AndANackForAnOldPacketIsNotAnsweredWithANewOneOfTheSameNumber()
    {
        _call = SimulcastHarness.WithRids(CodecNames.Vp8, "q", "h");
        var firstHigh = _highSequence;
        await FramesAsync(3, low: true, high: true, keyframeFirst: true);
        var old = _call.TakeSubscriberRtp();
        Assert.That(_call.Consumer.CurrentLayer, Is.EqualTo(1));

        // The publisher restarts its high layer under a new SSRC whose numbers happen to start where the old one's did.
        const uint RestartedSsrc = 0x1000_0099;
        await _call.OnWorkerAsync(() =>
        {
            _call.Receive(RestartedSsrc, "h", firstHigh, _highTimestamp, keyframe: true, startOfFrame: true, marker: true);
            _call.Receive(RestartedSsrc, "h", (ushort)(firstHigh + 1), _highTimestamp + 3000, keyframe: false, startOfFrame: true, marker: true);
        });
        var restarted = _call.TakeSubscriberRtp();
        Assert.That(restarted, Has.Count.EqualTo(2), "the restarted layer is forwarded, from its keyframe");
        Assert.That(SequencesAreContinuous([.. old, .. restarted]));

        await _call.OnWorkerAsync(() => _call.Consumer.Retransmit([old[0].Sequence, restarted[1].Sequence]));
        var resent = _call.TakeSubscriberPackets(replays: true);
        Assert.That(resent, Has.Count.EqualTo(1), "only the restarted layer's own packet: the old one's cache slot now holds another packet");
    }

    /// <summary>On the worker: the allocator's decision for a subscriber whose estimate changed, applied as a tick applies it.</summary>
    private Task MoveForBandwidthAsync(int layer) => _call.OnWorkerAsync(() =>
    {
        _call.Consumer.Allocation.Decide(layer, LayerChangeReason.Bandwidth);
        _call.Consumer.ApplyAllocation();
    });

    /// <summary>VP8 delta frames of one packet each with these temporal layer ids, on both layers, 33 ms apart.</summary>
    private Task TemporalFramesAsync(int[] temporalIds) => _call.OnWorkerAsync(() =>
    {
        foreach (var tid in temporalIds)
        {
            _call.Receive(LowSsrc, "q", _lowSequence++, _lowTimestamp, false, startOfFrame: true, marker: true, temporalId: tid);
            _call.Receive(HighSsrc, "h", _highSequence++, _highTimestamp, false, startOfFrame: true, marker: true, temporalId: tid);
            _lowTimestamp += 33 * 90;
            _highTimestamp += 33 * 90;
            _call.Clock.Advance(FrameInterval);
            _call.Tick();
        }
    });

    /// <summary>
    /// Frames of one packet each on the chosen layers, 33 ms apart (the worker's timers run after each), the
    /// first a keyframe when asked.
    /// </summary>
    private Task FramesAsync(int count, bool low, bool high, bool keyframeFirst) => _call.OnWorkerAsync(() =>
    {
        for (var i = 0; i < count; i++)
        {
            var keyframe = keyframeFirst && i == 0;
            if (low) _call.Receive(LowSsrc, "q", _lowSequence++, _lowTimestamp, keyframe, startOfFrame: true, marker: true);
            if (high) _call.Receive(HighSsrc, "h", _highSequence++, _highTimestamp, keyframe, startOfFrame: true, marker: true);
            _lowTimestamp += 33 * 90;
            _highTimestamp += 33 * 90;
            _call.Clock.Advance(FrameInterval);
            _call.Tick();
        }
    });

    /// <summary>Time passes with nothing arriving; the worker's timers run every 20 ms, as its loop runs them.</summary>
    private Task IdleAsync(TimeSpan duration) => _call.OnWorkerAsync(() =>
    {
        for (var elapsed = TimeSpan.Zero; elapsed < duration; elapsed += TimeSpan.FromMilliseconds(20))
        {
            _call.Clock.Advance(TimeSpan.FromMilliseconds(20));
            _call.Tick();
        }
    });

    private static bool SequencesAreContinuous(List<(ushort Sequence, uint Timestamp, uint Ssrc)> packets) =>
        packets.Zip(packets.Skip(1)).All(pair => pair.Second.Sequence == (ushort)(pair.First.Sequence + 1));
}
