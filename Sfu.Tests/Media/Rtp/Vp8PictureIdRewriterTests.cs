using Sfu.Media.Rtp;

namespace Sfu.Tests.Media.Rtp;

public class Vp8PictureIdRewriterTests
{
    // X=1, S=1; I and L set; a 15-bit PictureID (M=1); TL0PICIDX; then a byte of VP8 data.
    private static byte[] Descriptor(int pictureId, byte tl0) =>
        [0x90, 0xC0, (byte)(0x80 | (pictureId >> 8)), (byte)pictureId, tl0, 0x55];

    private static (int PictureId, byte Tl0) Read(byte[] payload) => (((payload[2] & 0x7F) << 8) | payload[3], payload[4]);

    [Test]
    public void FirstLayer_PassesThrough_ThenASwitchContinuesAtLastPlusOne_AndRetransmissionsMapTheSame()
    {
        var rewriter = new Vp8PictureIdRewriter();
        var first = Descriptor(30000, 200);
        rewriter.Rewrite(first);
        var second = Descriptor(30001, 201);
        var sentWith = rewriter.Rewrite(second);
        Assert.That((Read(first), Read(second)), Is.EqualTo(((30000, (byte)200), (30001, (byte)201))));

        // Another layer, from another encoder whose numbers are behind: the receiver must see them go on.
        rewriter.RequestSwitch();
        var keyframe = Descriptor(100, 7);
        rewriter.Rewrite(keyframe);
        var next = Descriptor(101, 8);
        rewriter.Rewrite(next);
        Assert.That((Read(keyframe), Read(next)), Is.EqualTo(((30002, (byte)202), (30003, (byte)203))));

        // A retransmission of the packet sent before the switch gets the numbers it had then.
        var again = Descriptor(30001, 201);
        Vp8PictureIdRewriter.Apply(again, sentWith.PictureOffset, sentWith.Tl0Offset);
        Assert.That(Read(again), Is.EqualTo((30001, (byte)201)));
    }

    [Test]
    public void Switch_WrapsThe15BitPictureIdAndTheTl0Index()
    {
        var rewriter = new Vp8PictureIdRewriter();
        rewriter.Rewrite(Descriptor(0x7FFF, 255));
        rewriter.RequestSwitch();
        var keyframe = Descriptor(5000, 40);
        rewriter.Rewrite(keyframe);
        Assert.That(Read(keyframe), Is.EqualTo((0, (byte)0)));
    }

    [Test]
    public void DescriptorWithoutPictureId_IsLeftAlone()
    {
        var rewriter = new Vp8PictureIdRewriter();
        rewriter.Rewrite(Descriptor(10, 1));
        rewriter.RequestSwitch();
        byte[] plain = [0x10, 0x55, 0x55];
        rewriter.Rewrite(plain);
        Assert.That(plain, Is.EqualTo(new byte[] { 0x10, 0x55, 0x55 }));
    }
}
