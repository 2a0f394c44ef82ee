using Sfu.Media.Rtp;

namespace Sfu.Tests.Media.Rtp;

public class RtpKeyframeTests
{
    [TestCase("10" + "9002009D012A", true, TestName = "Vp8_MinimalDescriptorKeyframe_IsKeyframe")]
    [TestCase("90" + "E0" + "8123" + "05" + "40" + "5002009D012A", true, TestName = "Vp8_ExtendedDescriptorWith15BitPictureId_IsKeyframe")]
    [TestCase("90" + "80" + "23" + "9002009D012A", true, TestName = "Vp8_7BitPictureId_IsKeyframe")]
    [TestCase("10" + "9102009D012A", false, TestName = "Vp8_InterFrame_IsNotKeyframe")]
    [TestCase("00" + "9002009D012A", false, TestName = "Vp8_NotStartOfPartition_IsNotKeyframe")]
    [TestCase("11" + "9002009D012A", false, TestName = "Vp8_PartitionOne_IsNotKeyframe")]
    [TestCase("10" + "900200FFFFFF", false, TestName = "Vp8_MissingStartCode_IsNotKeyframe")]
    [TestCase("90" + "E0" + "81", false, TestName = "Vp8_TruncatedDescriptor_IsNotKeyframe")]
    public void Vp8(string hex, bool expected)
    {
        Assert.That(RtpKeyframe.IsVp8(Convert.FromHexString(hex)), Is.EqualTo(expected));
    }

    [TestCase("0C" + "AA", true, TestName = "Vp9_BeginningOfNonPredictedFrame_IsKeyframe")]
    [TestCase("A8" + "8001" + "00" + "07" + "AA", true, TestName = "Vp9_SpatialLayerZeroWithPictureId_IsKeyframe")]
    [TestCase("A8" + "8001" + "02" + "07" + "AA", false, TestName = "Vp9_SpatialLayerOne_IsNotKeyframe")]
    [TestCase("4C" + "AA", false, TestName = "Vp9_InterPredicted_IsNotKeyframe")]
    [TestCase("04" + "AA", false, TestName = "Vp9_NotBeginningOfFrame_IsNotKeyframe")]
    [TestCase("A8" + "80", false, TestName = "Vp9_TruncatedLayerIndices_IsNotKeyframe")]
    public void Vp9(string hex, bool expected)
    {
        Assert.That(RtpKeyframe.IsVp9(Convert.FromHexString(hex)), Is.EqualTo(expected));
    }

    [TestCase("65" + "8888", true, TestName = "H264_SingleIdrNal_IsKeyframe")]
    [TestCase("67" + "4200", true, TestName = "H264_SingleSps_IsKeyframe")]
    [TestCase("41" + "9A00", false, TestName = "H264_SingleNonIdrSlice_IsNotKeyframe")]
    [TestCase("78" + "0002" + "6742" + "0002" + "68CE", true, TestName = "H264_StapAWithSpsAndPps_IsKeyframe")]
    [TestCase("78" + "0002" + "0601" + "0002" + "6588", true, TestName = "H264_StapAWithIdrSecond_IsKeyframe")]
    [TestCase("78" + "0002" + "0601" + "0009" + "6588", false, TestName = "H264_StapAWithOverrunningSize_IsNotKeyframe")]
    [TestCase("7C" + "85" + "88", true, TestName = "H264_FuAStartOfIdr_IsKeyframe")]
    [TestCase("7C" + "05" + "88", false, TestName = "H264_FuAMiddleOfIdr_IsNotKeyframe")]
    [TestCase("7C" + "81" + "88", false, TestName = "H264_FuAStartOfNonIdr_IsNotKeyframe")]
    [TestCase("", false, TestName = "H264_Empty_IsNotKeyframe")]
    public void H264(string hex, bool expected)
    {
        Assert.That(RtpKeyframe.IsH264(Convert.FromHexString(hex)), Is.EqualTo(expected));
    }

    [TestCase("18" + "0A0B", true, TestName = "Av1_NewCodedVideoSequenceBit_IsKeyframe")]
    [TestCase("10" + "0A0B", true, TestName = "Av1_SingleElementSequenceHeaderObu_IsKeyframe")]
    [TestCase("00" + "05" + "0A0B", true, TestName = "Av1_LengthPrefixedSequenceHeaderObu_IsKeyframe")]
    [TestCase("00" + "8101" + "0A0B", true, TestName = "Av1_MultiByteLeb128Length_IsKeyframe")]
    [TestCase("10" + "320B", false, TestName = "Av1_FrameObu_IsNotKeyframe")]
    [TestCase("90" + "0A0B", false, TestName = "Av1_ContinuationOfPreviousObu_IsNotKeyframe")]
    public void Av1(string hex, bool expected)
    {
        Assert.That(RtpKeyframe.IsAv1(Convert.FromHexString(hex)), Is.EqualTo(expected));
    }

    [Test]
    public void IsKeyframeStart_DispatchesByCodec()
    {
        byte[] h264Idr = [0x65, 0x88];
        Assert.That(RtpKeyframe.IsKeyframeStart(RtpVideoCodec.H264, h264Idr), Is.True);
        Assert.That(RtpKeyframe.IsKeyframeStart(RtpVideoCodec.Vp8, h264Idr), Is.False);
    }
}
