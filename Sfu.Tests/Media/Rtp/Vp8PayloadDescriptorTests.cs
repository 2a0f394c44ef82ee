using Sfu.Media.Rtp;

namespace Sfu.Tests.Media.Rtp;

public class Vp8PayloadDescriptorTests
{
    [Test]
    public void FullDescriptor_GivesLengthTemporalIdAndLayerSync()
    {
        // X; I L T; 15-bit PictureID; TL0PICIDX; TID=2, Y=1, KEYIDX=0; then VP8 data.
        byte[] payload = [0x90, 0xE0, 0x81, 0x23, 0x07, 0xA0, 0xAA];

        Assert.That(Vp8PayloadDescriptor.TryParse(payload, out var descriptor), Is.True);
        Assert.That(descriptor, Is.EqualTo(new Vp8PayloadDescriptor(6, StartOfFrame: true, TemporalId: 2, LayerSync: true)
            {
                PictureIdAt = 2,
                LongPictureId = true,
                Tl0PicIdxAt = 4,
            }));
    }

    [Test]
    public void KeyIndexWithoutTemporalId_IsTheBaseLayer()
    {
        byte[] payload = [0x80, 0x10, 0xC5, 0xAA]; // X; K only: the byte holds KEYIDX, its TID bits mean nothing

        Assert.That(Vp8PayloadDescriptor.TryParse(payload, out var descriptor), Is.True);
        Assert.That((descriptor.Length, descriptor.TemporalId, descriptor.StartOfFrame), Is.EqualTo((3, 0, false)));
    }

    [Test]
    public void MinimalDescriptor_IsOneByte()
    {
        Assert.That(Vp8PayloadDescriptor.TryParse([0x10, 0x00], out var descriptor), Is.True);
        Assert.That((descriptor.Length, descriptor.StartOfFrame, descriptor.TemporalId), Is.EqualTo((1, true, 0)));
    }

    [TestCase(new byte[0], TestName = "EmptyPayload_DoesNotParse")]
    [TestCase(new byte[] { 0x80 }, TestName = "MissingExtensionByte_DoesNotParse")]
    [TestCase(new byte[] { 0x80, 0x80 }, TestName = "MissingPictureId_DoesNotParse")]
    [TestCase(new byte[] { 0x80, 0x20 }, TestName = "MissingTidByte_DoesNotParse")]
    [TestCase(new byte[] { 0x80, 0xC0, 0x81 }, TestName = "TruncatedLongPictureId_DoesNotParse")]
    public void TruncatedDescriptor_DoesNotParse(byte[] payload) =>
        Assert.That(Vp8PayloadDescriptor.TryParse(payload, out _), Is.False);
}
