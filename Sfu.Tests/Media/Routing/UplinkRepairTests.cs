using Sfu.Media.Diagnostics;
using Sfu.Media.Rtp;
using Sfu.Media.Sdp;

namespace Sfu.Tests.Media.Routing;

/// <summary>
/// Repair of a simulcast publisher's uplink through the real publish transport, producer, consumer and subscribe
/// transport: each layer's losses are NACKed on that layer's SSRC, its RTX stream is learned from repaired-rid and
/// restored, and what cannot be repaired turns into a keyframe request.
/// </summary>
[Category("Media")]
public sealed class UplinkRepairTests
{
    private const uint LowSsrc = 0x1000_0001;
    private const uint HighSsrc = 0x1000_0002;
    private const uint HighRtxSsrc = 0x1000_0009;

    private SimulcastHarness _call = null!;

    [TearDown]
    public async Task TearDown() => await _call.DisposeAsync();

    [Test]
    public async Task LossOnALayer_IsNackedOnItsSsrc_AndItsRtxLearnedByRepairedRid_FillsTheSubscribersGap()
    {
        _call = SimulcastHarness.WithRidsAndNack(CodecNames.Vp8, "q", "h");
        await _call.OnWorkerAsync(() =>
        {
            _call.Receive(LowSsrc, "q", 100, 0, keyframe: true, startOfFrame: true, marker: true);
            _call.Receive(HighSsrc, "h", 1, 0, keyframe: true, startOfFrame: true, marker: true);
            _call.Receive(HighSsrc, "h", 2, 3000, keyframe: false, startOfFrame: true, marker: true);
            _call.Receive(HighSsrc, "h", 5, 9000, keyframe: false, startOfFrame: true, marker: true);
        });
        var nacked = _call.TakePublisherFeedback().Nacked;
        var before = _call.TakeSubscriberRtp().Select(p => p.Sequence);

        await _call.OnWorkerAsync(() =>
        {
            _call.ReceiveRetransmission(HighRtxSsrc, "h", 77, 4, 6000);
            _call.ReceiveRetransmission(HighRtxSsrc, "h", 78, 3, 6000);
        });

        var after = _call.TakeSubscriberRtp();
        Assert.Multiple(() =>
        {
            Assert.That(nacked, Is.EqualTo(new[] { (HighSsrc, (ushort)3), (HighSsrc, (ushort)4) }));
            Assert.That(before, Is.EqualTo(new ushort[] { 1, 2, 5 }));
            Assert.That(after, Is.EqualTo(new[] { ((ushort)4, 6000u, SimulcastHarness.ConsumerSsrc), ((ushort)3, 6000u, SimulcastHarness.ConsumerSsrc) }),
                "restored, in the subscriber's numbering and on its media SSRC");
            Assert.That(_call.Producer.Layers[1].RtxSsrc, Is.EqualTo(HighRtxSsrc));
            Assert.That(_call.Metrics.UplinkRepair.PacketsRecovered, Is.EqualTo(2));
        });
    }

    [Test]
    public async Task LayerRestartedUnderANewSsrc_StartsItsGapsAfresh()
    {
        _call = SimulcastHarness.WithRidsAndNack(CodecNames.Vp8, "q", "h");
        await _call.OnWorkerAsync(() =>
        {
            _call.Receive(HighSsrc, "h", 1, 0, keyframe: true, startOfFrame: true, marker: true);
            _call.Receive(HighSsrc, "h", 3, 6000, keyframe: false, startOfFrame: true, marker: true);
        });
        var before = _call.TakePublisherFeedback().Nacked;

        await _call.OnWorkerAsync(() =>
        {
            _call.Receive(0x1000_0005, "h", 200, 0, keyframe: true, startOfFrame: true, marker: true);
            _call.Receive(0x1000_0005, "h", 201, 3000, keyframe: false, startOfFrame: true, marker: true);
        });
        _call.Clock.Advance(TimeSpan.FromSeconds(1));
        await _call.OnWorkerAsync(_call.Tick);

        Assert.Multiple(() =>
        {
            Assert.That(before, Is.EqualTo(new[] { (HighSsrc, (ushort)2) }));
            Assert.That(_call.TakePublisherFeedback().Nacked, Is.Empty, "neither the old stream's gap nor a jump to the new numbering");
        });
    }

    [Test]
    public async Task GapLargerThanWorthAskingFor_IsGivenUpAtOnce_AndTheLayersKeyframeRequested()
    {
        _call = SimulcastHarness.WithRidsAndNack(CodecNames.Vp8, "q", "h");
        await _call.OnWorkerAsync(() => _call.Receive(HighSsrc, "h", 1, 0, keyframe: true, startOfFrame: true, marker: true));
        _call.Clock.Advance(TimeSpan.FromSeconds(2)); // past the keyframe request throttle
        _call.TakePublisherFeedback();

        await _call.OnWorkerAsync(() =>
        {
            _call.Receive(HighSsrc, "h", 400, 90000, keyframe: false, startOfFrame: true, marker: true);
            _call.Tick();
        });

        var feedback = _call.TakePublisherFeedback();
        Assert.Multiple(() =>
        {
            Assert.That(feedback.Nacked, Is.Empty);
            Assert.That(feedback.Plis, Does.Contain(HighSsrc));
            Assert.That(_call.Metrics.UplinkRepair.GivenUp(NackGiveUpReason.Overflow), Is.EqualTo(398));
        });
    }

    [Test]
    public async Task LatePacketReachingTheConsumer_GoesOutInItsPlace_OnceOnly_AndNotBeyondItsHistory()
    {
        _call = SimulcastHarness.WithRids(CodecNames.Vp8, "q", "h");
        await _call.OnWorkerAsync(() =>
        {
            _call.Receive(HighSsrc, "h", 1, 0, keyframe: true, startOfFrame: true, marker: true);
            _call.Receive(HighSsrc, "h", 3, 6000, keyframe: false, startOfFrame: true, marker: true);
            _call.DeliverToProducer(1, 2, 3000);
            _call.DeliverToProducer(1, 2, 3000);
            _call.DeliverToProducer(1, 3, 6000);
        });
        var first = MediaSequences();

        var forwarded = 0;
        for (var start = 4; start <= 1100; start += 100)
        {
            await _call.OnWorkerAsync(() =>
            {
                for (var sequence = start; sequence < start + 100; sequence++) _call.DeliverToProducer(1, (ushort)sequence, (uint)sequence * 3000);
            });
            forwarded += MediaSequences().Length;
        }
        await _call.OnWorkerAsync(() => _call.DeliverToProducer(1, 50, 150_000));
        var second = MediaSequences();

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EqualTo(new ushort[] { 1, 3, 2 }), "the late packet once, in its place; what was sent not again");
            Assert.That(forwarded, Is.EqualTo(1100));
            Assert.That(second, Is.Empty, "a packet older than the history would take a newer one's record");
        });
    }

    /// <summary>What the subscriber got on its media SSRC (not probe padding), replays included: the server's decision alone.</summary>
    private ushort[] MediaSequences() =>
        _call.TakeSubscriberRtp(replays: true).Where(p => p.Ssrc == SimulcastHarness.ConsumerSsrc).Select(p => p.Sequence).ToArray();

    [Test]
    public async Task PublisherWithoutNack_IsNeverNacked_AndItsRtxIsNotForwarded()
    {
        _call = SimulcastHarness.WithRids(CodecNames.Vp8, "q", "h");
        await _call.OnWorkerAsync(() =>
        {
            _call.Receive(HighSsrc, "h", 1, 0, keyframe: true, startOfFrame: true, marker: true);
            _call.Receive(HighSsrc, "h", 3, 6000, keyframe: false, startOfFrame: true, marker: true);
            _call.ReceiveRetransmission(HighRtxSsrc, "h", 77, 2, 3000);
        });

        Assert.Multiple(() =>
        {
            Assert.That(_call.TakePublisherFeedback().Nacked, Is.Empty);
            Assert.That(_call.TakeSubscriberRtp().Select(p => p.Sequence), Is.EqualTo(new ushort[] { 1, 3 }));
            Assert.That(_call.Metrics.DroppedCount(DropReason.UnrequestedRetransmission), Is.EqualTo(1));
        });
    }
}
