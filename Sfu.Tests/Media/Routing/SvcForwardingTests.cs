using System.Buffers.Binary;
using Sfu.Media.Routing;
using Sfu.Media.Rtp;
using Sfu.Media.Sdp;

namespace Sfu.Tests.Media.Routing;

/// <summary>
/// VP9 SVC (one stream, spatial layers inside) through the real publish transport, producer, consumer and subscribe
/// transport: which spatial and temporal layers a subscriber gets, the marker that ends its picture, continuous
/// numbering across what it does not get, moves up only at a keyframe and down at a picture start, retransmissions.
/// Pictures here are three spatial layers of two packets each, with temporal layers 0, 2, 1, 2 in turn, as Chrome's
/// <c>L3T3_KEY</c> sends them.
/// </summary>
[Category("Media")]
public sealed class SvcForwardingTests
{
    private const uint Ssrc = 0x1000_0009;
    private const int PacketsPerLayer = 2;
    private static readonly TimeSpan FrameInterval = TimeSpan.FromMilliseconds(33);
    private static readonly int[] TemporalPattern = [0, 2, 1, 2];

    private SimulcastHarness _call = null!;
    private ushort _sequence;
    private uint _timestamp;
    private int _picture;

    [SetUp]
    public void SetUp()
    {
        _call = SimulcastHarness.WithOneStream(CodecNames.Vp9);
        // Near the wrap, so the numbering crosses it.
        _sequence = 65500;
        _timestamp = 1000;
        _picture = 0;
    }

    [TearDown]
    public async Task TearDown() => await _call.DisposeAsync();

    [Test]
    public async Task UncappedSubscriber_GetsEveryLayer_WithThePublishersMarker_AndTheLayersAreMeasured()
    {
        var sent = await PicturesInChunksAsync(40, keyframeFirst: true);

        Assert.That(sent, Has.Count.EqualTo(40 * 3 * PacketsPerLayer));
        Assert.That(SequencesAreContinuous(sent), "the numbering crosses the publisher's wrap unchanged");
        Assert.That(sent.Where(p => p.Marker).Select(SpatialId), Is.All.EqualTo(2));
        Assert.That(sent.Count(p => p.Marker), Is.EqualTo(40), "one marker per picture, on its top layer's last packet");
        Assert.That(_call.Producer.SpatialLayerCount, Is.EqualTo(3));
        Assert.That(_call.Consumer.CurrentLayer, Is.EqualTo(2));
        Assert.That(_call.LayerEvents.Select(e => e.Layer), Is.EqualTo(new[] { 2 }), "the top layer the stream has, reported once");
        Assert.That(_call.LayerEvents.Select(e => e.Reason), Has.None.EqualTo(LayerChangeReason.LayerLost),
            "the layers VP9 could number but this stream never had were never lost");
        var figures = _call.Consumer.Allocation.Layers;
        Assert.That(figures.Take(3).Select(f => (f.IsActive, f.Width, f.Height)), Is.EqualTo(new[] { (true, 160, 120), (true, 320, 240), (true, 640, 480) }));
        Assert.That(figures.Skip(3).Select(f => f.IsActive), Is.All.False);
        Assert.That(figures[1].Bitrate, Is.EqualTo(2 * figures[0].Bitrate).Within(1).Percent, "layer 1 needs itself and layer 0 (same size here)");
        Assert.That(figures[2].Bitrate, Is.EqualTo(3 * figures[0].Bitrate).Within(1).Percent);
    }

    [Test]
    public async Task CappedToTheLowestLayer_ForwardsOnlyIt_EndingEachPictureWithTheMarker_WithoutGaps()
    {
        await PicturesAsync(3, keyframeFirst: true);
        var before = _call.TakeSubscriberPackets();
        await _call.OnWorkerAsync(() => _call.Subscriber.SetPreferences(_call.Producer.Id, new LayerPreferences(MaxLayer: 0)));
        await PicturesAsync(20, keyframeFirst: false);

        var after = _call.TakeSubscriberPackets();
        Assert.That(after, Has.Count.EqualTo(20 * PacketsPerLayer));
        Assert.That(after.Select(SpatialId), Is.All.EqualTo(0));
        Assert.That(after.Where((_, i) => i % PacketsPerLayer == PacketsPerLayer - 1).Select(p => p.Marker), Is.All.True);
        Assert.That(after.Count(p => p.Marker), Is.EqualTo(20));
        Assert.That(SequencesAreContinuous([.. before, .. after]), "no gap where the upper layers were left out");
        Assert.That(_call.Consumer.CurrentLayer, Is.EqualTo(0));
        Assert.That(_call.LayerEvents[^1], Is.EqualTo((0, false, LayerChangeReason.Cap)));
    }

    [Test]
    public async Task MoveDown_WaitsForTheNextPictureStart()
    {
        await PicturesAsync(3, keyframeFirst: true);
        _call.TakeSubscriberPackets();

        // Capped after the picture's two lower layers went out: its top layer still completes it.
        await _call.OnWorkerAsync(() =>
        {
            Layer(0, keyframe: false, temporalId: 0, top: 2);
            Layer(1, keyframe: false, temporalId: 0, top: 2);
            _call.Subscriber.SetPreferences(_call.Producer.Id, new LayerPreferences(MaxLayer: 0));
            Layer(2, keyframe: false, temporalId: 0, top: 2);
            NextPicture();
        });
        var capped = _call.TakeSubscriberPackets();
        Assert.That(capped.Select(SpatialId), Is.EqualTo(new[] { 0, 0, 1, 1, 2, 2 }));
        Assert.That(capped[^1].Marker, Is.True);

        await PicturesAsync(1, keyframeFirst: false);
        Assert.That(_call.TakeSubscriberPackets().Select(SpatialId), Is.EqualTo(new[] { 0, 0 }));
    }

    [Test]
    public async Task MoveUp_WaitsForAKeyframe_AndAsksForOne()
    {
        await _call.OnWorkerAsync(() => _call.Subscriber.SetPreferences(_call.Producer.Id, new LayerPreferences(MaxLayer: 0)));
        await PicturesAsync(10, keyframeFirst: true);
        var low = _call.TakeSubscriberPackets();
        Assert.That(low.Select(SpatialId), Is.All.EqualTo(0));
        _call.TakePublisherPlis();

        await _call.OnWorkerAsync(() => _call.Subscriber.SetPreferences(_call.Producer.Id, new LayerPreferences(MaxLayer: 1)));
        Assert.That(_call.TakePublisherPlis(), Does.Contain(Ssrc), "the stream's keyframe is asked for");
        await PicturesAsync(5, keyframeFirst: false);
        var waiting = _call.TakeSubscriberPackets();
        Assert.That(waiting.Select(SpatialId), Is.All.EqualTo(0), "no upper layer before a keyframe");
        Assert.That(_call.Consumer.CurrentLayer, Is.EqualTo(0));

        await PicturesAsync(5, keyframeFirst: true);
        var high = _call.TakeSubscriberPackets();
        Assert.That(high.Select(SpatialId), Is.EqualTo(Enumerable.Repeat(new[] { 0, 0, 1, 1 }, 5).SelectMany(l => l)));
        Assert.That(high.Where(p => p.Marker).Select(SpatialId), Is.All.EqualTo(1));
        Assert.That(SequencesAreContinuous([.. low, .. waiting, .. high]));
        Assert.That(_call.Consumer.CurrentLayer, Is.EqualTo(1));
        Assert.That(_call.LayerEvents[^1], Is.EqualTo((1, false, LayerChangeReason.Cap)));
    }

    [Test]
    public async Task TemporalCap_LeavesOutTheHigherTemporalLayers_OfTheSpatialLayersForwarded()
    {
        await _call.OnWorkerAsync(() => _call.Subscriber.SetPreferences(_call.Producer.Id, new LayerPreferences(MaxLayer: 1, MaxTemporalLayer: 0)));
        await PicturesAsync(8, keyframeFirst: true);

        var sent = _call.TakeSubscriberPackets();
        Assert.That(sent, Has.Count.EqualTo(2 * 2 * PacketsPerLayer), "two pictures of eight are in temporal layer 0");
        Assert.That(sent.Select(TemporalId), Is.All.EqualTo(0));
        Assert.That(sent.Select(SpatialId).Distinct(), Is.EqualTo(new[] { 0, 1 }));
        Assert.That(SequencesAreContinuous(sent));
    }

    [Test]
    public async Task Nack_IsAnsweredWithTheForwardedPackets_AndTheirMarker_NeverWithALayerLeftOut()
    {
        await _call.OnWorkerAsync(() => _call.Subscriber.SetPreferences(_call.Producer.Id, new LayerPreferences(MaxLayer: 0)));
        await PicturesAsync(4, keyframeFirst: true);
        var sent = _call.TakeSubscriberPackets();
        Assert.That(sent, Has.Count.EqualTo(4 * PacketsPerLayer));

        var newest = sent[^1].Sequence;
        // Everything sent, and the numbers right after it (never sent: the layers left out took none).
        await _call.OnWorkerAsync(() => _call.SubscriberNacks([.. sent.Select(p => p.Sequence), (ushort)(newest + 1), (ushort)(newest + 2)]));

        var repaired = _call.TakeSubscriberPackets().Where(p => p.Ssrc != SimulcastHarness.ConsumerSsrc).ToList();
        Assert.That(repaired.Select(p => BinaryPrimitives.ReadUInt16BigEndian(p.Payload)), Is.EqualTo(sent.Select(p => p.Sequence)), "RTX of each, by its number");
        Assert.That(repaired.Select(p => p.Marker), Is.EqualTo(sent.Select(p => p.Marker)));
        Assert.That(repaired.Select(p => SpatialIdOf(p.Payload.AsSpan(2))), Is.All.EqualTo(0));
    }

    [Test]
    public async Task PacketLostUpstream_AndRepairedAfterUpperLayersWereLeftOut_FillsTheSubscribersGap()
    {
        await _call.DisposeAsync();
        _call = SimulcastHarness.WithOneStream(CodecNames.Vp9, nack: true);
        await _call.OnWorkerAsync(() => _call.Subscriber.SetPreferences(_call.Producer.Id, new LayerPreferences(MaxLayer: 0)));
        await PicturesAsync(2, keyframeFirst: true);
        var before = _call.TakeSubscriberPackets();

        // The next picture's first packet is lost on the publisher's uplink; the rest arrives (the upper layers left out).
        var lost = _sequence++;
        var lostTimestamp = _timestamp;
        await _call.OnWorkerAsync(() =>
        {
            _call.ReceiveVp9(Ssrc, _sequence++, _timestamp, 0, 0, keyframe: false, startOfLayerFrame: false, endOfLayerFrame: true, marker: false);
            Layer(1, keyframe: false, temporalId: 0, top: 2);
            Layer(2, keyframe: false, temporalId: 0, top: 2);
            NextPicture();
        });
        await PicturesAsync(1, keyframeFirst: false);
        Assert.That(_call.TakePublisherFeedback().Nacked, Does.Contain((Ssrc, lost)), "the server asks the publisher for it");
        var gapped = _call.TakeSubscriberPackets();
        Assert.That(gapped[0].Sequence, Is.EqualTo((ushort)(before[^1].Sequence + 2)), "the subscriber sees one number missing");

        await _call.OnWorkerAsync(() => _call.ReceiveVp9Retransmission(0x1000_0019, 1, lost, lostTimestamp, 0, 0, startOfLayerFrame: true,
            endOfLayerFrame: false, marker: false));
        var repaired = _call.TakeSubscriberPackets();
        Assert.That(repaired.Select(p => (p.Sequence, p.Timestamp)), Is.EqualTo(new[] { ((ushort)(before[^1].Sequence + 1), before[^1].Timestamp + (33 * 90)) }),
            "the repair goes out under the missing number, though upper layers were left out after it");
    }

    [Test]
    public async Task Allocator_GivesTheSpatialLayerTheEstimateFits()
    {
        await PicturesInChunksAsync(40, keyframeFirst: true);
        var figures = _call.Consumer.Allocation.Layers;
        var allocation = new LayerAllocation(MediaKind.Video, figures.Length);
        figures.CopyTo(allocation.Layers, 0);
        var allocator = new BitrateAllocator(_call.Clock.TimestampFrequency);

        allocator.Allocate((long)(figures[1].Bitrate * 1.05), [allocation], _call.Clock.GetTimestamp());
        Assert.That(allocation.Layer, Is.EqualTo(1), "layers 0 and 1 together fit, all three do not");
        allocator.Allocate(figures[0].Bitrate, [allocation], _call.Clock.GetTimestamp());
        Assert.That(allocation.Layer, Is.Zero);
        allocation.SetPreferences(new LayerPreferences(MaxWidth: 320, MaxHeight: 240));
        allocator.Allocate(null, [allocation], _call.Clock.GetTimestamp());
        Assert.That(allocation.Layer, Is.EqualTo(1), "the smallest layer covering 320x240, from the keyframe's sizes");
    }

    [Test]
    public async Task PacketWithoutAReadableDescriptor_IsCountedAndNotForwarded()
    {
        await PicturesAsync(2, keyframeFirst: true);
        _call.TakeSubscriberPackets();
        // F=1 without a picture id contradicts RFC 9628.
        await _call.OnWorkerAsync(() => _call.DeliverRawVp9(Ssrc, _sequence++, _timestamp, [0x18, 0x00]));

        Assert.That(_call.TakeSubscriberPackets(), Is.Empty);
        Assert.That(_call.Metrics.DroppedCount(Sfu.Media.Diagnostics.DropReason.Malformed), Is.EqualTo(1));
    }

    /// <summary>Pictures of three spatial layers, 33 ms apart (the worker's timers run after each), the first a keyframe when asked.</summary>
    private Task PicturesAsync(int count, bool keyframeFirst) => _call.OnWorkerAsync(() =>
    {
        for (var i = 0; i < count; i++)
        {
            var keyframe = keyframeFirst && i == 0;
            var temporalId = keyframe ? 0 : TemporalPattern[_picture % TemporalPattern.Length];
            for (var spatialId = 0; spatialId < 3; spatialId++) Layer(spatialId, keyframe, temporalId, top: 2);
            NextPicture();
        }
    });

    /// <summary>
    /// <see cref="PicturesAsync"/>, taking what the subscriber got every ten pictures: more than a second of them at
    /// once would overflow its socket's receive buffer.
    /// </summary>
    private async Task<List<(ushort Sequence, uint Timestamp, uint Ssrc, bool Marker, byte PayloadType, byte[] Payload)>> PicturesInChunksAsync(int count, bool keyframeFirst)
    {
        var sent = new List<(ushort Sequence, uint Timestamp, uint Ssrc, bool Marker, byte PayloadType, byte[] Payload)>();
        for (var i = 0; i < count; i += 10)
        {
            await PicturesAsync(Math.Min(10, count - i), keyframeFirst && i == 0);
            sent.AddRange(_call.TakeSubscriberPackets());
        }
        return sent;
    }

    /// <summary>One layer frame of the current picture: its packets, the publisher's marker on the top layer's last.</summary>
    private void Layer(int spatialId, bool keyframe, int temporalId, int top)
    {
        for (var p = 0; p < PacketsPerLayer; p++)
        {
            var last = p == PacketsPerLayer - 1;
            _call.ReceiveVp9(Ssrc, _sequence++, _timestamp, spatialId, temporalId, keyframe, startOfLayerFrame: p == 0, endOfLayerFrame: last,
                marker: last && spatialId == top);
        }
    }

    private void NextPicture()
    {
        _picture++;
        _timestamp += 33 * 90;
        _call.Clock.Advance(FrameInterval);
        _call.Tick();
    }

    private static int SpatialId((ushort Sequence, uint Timestamp, uint Ssrc, bool Marker, byte PayloadType, byte[] Payload) packet) => SpatialIdOf(packet.Payload);

    private static int TemporalId((ushort Sequence, uint Timestamp, uint Ssrc, bool Marker, byte PayloadType, byte[] Payload) packet) =>
        Vp9PayloadDescriptor.TryParse(packet.Payload, out var d) ? d.TemporalId : -1;

    private static int SpatialIdOf(ReadOnlySpan<byte> payload) => Vp9PayloadDescriptor.TryParse(payload, out var d) ? d.SpatialId : -1;

    private static bool SequencesAreContinuous(List<(ushort Sequence, uint Timestamp, uint Ssrc, bool Marker, byte PayloadType, byte[] Payload)> packets) =>
        packets.Zip(packets.Skip(1)).All(pair => pair.Second.Sequence == (ushort)(pair.First.Sequence + 1));
}
