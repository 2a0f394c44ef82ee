using Sfu.Media.Routing;
using Sfu.Media.Rtp;

namespace Sfu.Tests.Media.Routing;

/// <summary>The SVC decision alone, on descriptors as the producer reads them: what late packets may not change.</summary>
public sealed class SpatialLayerFilterTests
{
    private const uint Picture1 = 3000;
    private const uint Picture2 = 6000;

    [Test]
    public void LateStartOfAnOlderPicture_DoesNotMoveDown_InTheMiddleOfANewerOne()
    {
        var filter = new SpatialLayerFilter();
        filter.SetTarget(2);
        Assert.That(filter.Decide(Start(0, predicted: false), Picture1, false, null), Is.EqualTo(SpatialDecision.Forward));
        Assert.That(filter.Decide(Start(0, predicted: true), Picture2, false, null), Is.EqualTo(SpatialDecision.Forward));
        filter.SetTarget(0);

        // A retransmission of picture 1's first packet arrives while picture 2 is going out.
        Assert.That(filter.Decide(Start(0, predicted: true), Picture1, false, null), Is.EqualTo(SpatialDecision.Forward));
        Assert.That(filter.Current, Is.EqualTo(2), "picture 2's upper layers are still on their way");
        Assert.That(filter.Decide(Start(2, predicted: true), Picture2, false, null), Is.EqualTo(SpatialDecision.Forward));
    }

    [Test]
    public void LateKeyframeStart_DoesNotMoveUp()
    {
        var filter = new SpatialLayerFilter();
        filter.SetTarget(0);
        filter.Decide(Start(0, predicted: false), Picture1, false, null);
        filter.Decide(Start(0, predicted: true), Picture2, false, null);
        Assert.That(filter.SetTarget(2), Is.True, "a keyframe is needed to move up");

        filter.Decide(Start(0, predicted: false), Picture1, false, null);
        Assert.That(filter.Current, Is.Zero, "the upper layers of that keyframe were left out when they came");
        Assert.That(filter.Decide(Start(1, predicted: true), Picture2, false, null), Is.EqualTo(SpatialDecision.Drop));
    }

    [Test]
    public void Restart_TakesTheNextKeyframe_WhateverItsTimestamp()
    {
        var filter = new SpatialLayerFilter();
        filter.SetTarget(0);
        filter.Decide(Start(0, predicted: false), Picture2, false, null);
        filter.SetTarget(1);
        filter.Restart();

        filter.Decide(Start(0, predicted: false), Picture1, false, null);
        Assert.That(filter.Current, Is.EqualTo(1), "a new encoder's timestamps start anywhere");
    }

    /// <summary>The first packet of a layer frame that is also its last (one packet per layer).</summary>
    private static Vp9PayloadDescriptor Start(int spatialId, bool predicted) => new()
    {
        Length = 3,
        HasLayerIndices = true,
        SpatialId = spatialId,
        InterPicturePredicted = predicted,
        StartOfLayerFrame = true,
        EndOfLayerFrame = false,
        PictureId = Vp9PayloadDescriptor.Absent,
    };
}
