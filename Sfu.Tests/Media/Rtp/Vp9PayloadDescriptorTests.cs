using Sfu.Media.Rtp;

namespace Sfu.Tests.Media.Rtp;

/// <summary>Descriptors written bit by bit from RFC 9628 section 4.2's layouts.</summary>
public class Vp9PayloadDescriptorTests
{
    [Test]
    public void NonFlexibleKeyframe_WithScalabilityStructure_GivesLayersAndSizes()
    {
        byte[] payload =
        [
            0b1010_1110, // I=1 P=0 L=1 F=0 B=1 E=1 V=1 Z=0
            0x81, 0x23, // M=1: 15-bit picture id 0x0123
            0b000_0_000_0, // TID=0 U=0 SID=0 D=0
            0x2A, // TL0PICIDX
            0b010_1_1_000, // SS: N_S=2 (three layers) Y=1 G=1
            0x00, 0xA0, 0x00, 0x78, // 160x120
            0x01, 0x40, 0x00, 0xF0, // 320x240
            0x02, 0x80, 0x01, 0xE0, // 640x480
            0x02, // N_G=2
            0b000_1_01_00, 0x04, // TID=0 U=1 R=1, P_DIFF 4
            0b001_1_00_00, // TID=1 U=1 R=0
            0xFF, // VP9 data
        ];

        Assert.That(Vp9PayloadDescriptor.TryParse(payload, out var d), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(d.Length, Is.EqualTo(payload.Length - 1));
            Assert.That((d.InterPicturePredicted, d.Flexible, d.StartOfLayerFrame, d.EndOfLayerFrame, d.StartOfPicture), Is.EqualTo((false, false, true, true, true)));
            Assert.That((d.PictureId, d.PictureIdAt, d.LongPictureId), Is.EqualTo((0x0123, 1, true)));
            Assert.That((d.HasLayerIndices, d.TemporalId, d.SpatialId, d.Tl0PicIdxAt), Is.EqualTo((true, 0, 0, 4)));
            Assert.That((d.ScalabilityStructureAt, d.SpatialLayerCount, d.HasLayerSizes, d.PictureGroupSize), Is.EqualTo((5, 3, true, 2)));
            Assert.That(d.ReferencesAt, Is.EqualTo(Vp9PayloadDescriptor.Absent));
        });
        int[] widths = new int[3], heights = new int[3];
        for (var sid = 0; sid < 3; sid++) Assert.That(d.TryGetLayerSize(payload, sid, out widths[sid], out heights[sid]), Is.True);
        Assert.That(widths, Is.EqualTo(new[] { 160, 320, 640 }));
        Assert.That(heights, Is.EqualTo(new[] { 120, 240, 480 }));
        Assert.That(d.TryGetLayerSize(payload, 3, out _, out _), Is.False, "the structure declares three layers");
    }

    [Test]
    public void NonFlexibleUpperLayer_GivesTemporalAndSpatialIndices()
    {
        // I=1 P=1 L=1 F=0 B=0 E=1 V=0 Z=1; 7-bit picture id 0x11; TID=2 U=1 SID=1 D=1; TL0PICIDX.
        byte[] payload = [0b1110_0101, 0x11, 0b010_1_001_1, 0x07, 0xFF];

        Assert.That(Vp9PayloadDescriptor.TryParse(payload, out var d), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(d.Length, Is.EqualTo(4));
            Assert.That((d.InterPicturePredicted, d.StartOfLayerFrame, d.EndOfLayerFrame, d.NotReferencedByUpperLayer), Is.EqualTo((true, false, true, true)));
            Assert.That((d.PictureId, d.LongPictureId), Is.EqualTo((0x11, false)));
            Assert.That((d.TemporalId, d.SwitchingUpPoint, d.SpatialId, d.InterLayerDependent), Is.EqualTo((2, true, 1, true)));
            Assert.That(d.Tl0PicIdxAt, Is.EqualTo(3));
            Assert.That(d.StartOfPicture, Is.False);
            Assert.That(d.SpatialLayerCount, Is.Zero);
        });
    }

    [Test]
    public void FlexibleMode_ListsReferenceDifferences_AndHasNoTl0PicIdx()
    {
        // I=1 P=1 L=1 F=1 B=1 E=0; 15-bit picture id; TID=1 SID=2; P_DIFF 1 (N=1), P_DIFF 2 (N=1), P_DIFF 4 (N=0).
        byte[] payload = [0b1111_1000, 0x80, 0x05, 0b001_0_010_0, (1 << 1) | 1, (2 << 1) | 1, 4 << 1, 0xFF];

        Assert.That(Vp9PayloadDescriptor.TryParse(payload, out var d), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(d.Length, Is.EqualTo(7));
            Assert.That((d.Flexible, d.TemporalId, d.SpatialId), Is.EqualTo((true, 1, 2)));
            Assert.That(d.Tl0PicIdxAt, Is.EqualTo(Vp9PayloadDescriptor.Absent));
            Assert.That((d.ReferencesAt, d.ReferenceCount), Is.EqualTo((4, 3)));
        });
    }

    [Test]
    public void MinimalDescriptor_IsTheBaseLayer()
    {
        Assert.That(Vp9PayloadDescriptor.TryParse([0b0000_1100, 0xFF], out var d), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That((d.Length, d.HasLayerIndices, d.SpatialId, d.TemporalId), Is.EqualTo((1, false, 0, 0)));
            Assert.That((d.PictureId, d.PictureIdAt), Is.EqualTo((Vp9PayloadDescriptor.Absent, Vp9PayloadDescriptor.Absent)));
            Assert.That(d.StartOfPicture, Is.True);
        });
    }

    [Test]
    public void StructureWithoutSizesOrGroup_GivesOnlyTheLayerCount()
    {
        byte[] payload = [0b0000_1010, 0b001_0_0_000, 0xFF]; // B=1 V=1; SS: N_S=1 Y=0 G=0

        Assert.That(Vp9PayloadDescriptor.TryParse(payload, out var d), Is.True);
        Assert.That((d.Length, d.SpatialLayerCount, d.HasLayerSizes, d.PictureGroupSize), Is.EqualTo((2, 2, false, 0)));
        Assert.That(d.TryGetLayerSize(payload, 0, out _, out _), Is.False);
    }

    [TestCase(new byte[0], TestName = "Empty_DoesNotParse")]
    [TestCase(new byte[] { 0b0001_1000, 0x00 }, TestName = "FlexibleWithoutPictureId_DoesNotParse")]
    [TestCase(new byte[] { 0b1111_1000, 0x05, 0x00, 0x03, 0x03, 0x03, 0x02 }, TestName = "MoreThanThreeReferences_DoesNotParse")]
    public void InvalidDescriptor_DoesNotParse(byte[] payload) =>
        Assert.That(Vp9PayloadDescriptor.TryParse(payload, out _), Is.False);

    [Test]
    public void EveryTruncation_OfAFullDescriptor_DoesNotParse()
    {
        byte[] full =
        [
            0b1010_1110, 0x81, 0x23, 0x00, 0x2A,
            0b010_1_1_000, 0x00, 0xA0, 0x00, 0x78, 0x01, 0x40, 0x00, 0xF0, 0x02, 0x80, 0x01, 0xE0,
            0x02, 0b000_1_01_00, 0x04, 0b001_1_00_00,
        ];
        Assert.That(Vp9PayloadDescriptor.TryParse(full, out var d), Is.True);
        Assert.That(d.Length, Is.EqualTo(full.Length));
        for (var length = 0; length < full.Length; length++)
            Assert.That(Vp9PayloadDescriptor.TryParse(full.AsSpan(0, length), out _), Is.False, $"cut to {length} bytes");
    }

    [Test]
    public void RandomBytes_NeverThrow_AndAParsedLengthIsWithinThePayload()
    {
        var random = new Random(9628);
        var payload = new byte[48];
        for (var i = 0; i < 200_000; i++)
        {
            var length = random.Next(payload.Length + 1);
            random.NextBytes(payload);
            var span = payload.AsSpan(0, length);
            if (!Vp9PayloadDescriptor.TryParse(span, out var d)) continue;
            Assert.That(d.Length, Is.InRange(1, length));
            for (var sid = 0; sid < Vp9PayloadDescriptor.MaxSpatialLayers; sid++) d.TryGetLayerSize(span, sid, out _, out _);
        }
    }
}
