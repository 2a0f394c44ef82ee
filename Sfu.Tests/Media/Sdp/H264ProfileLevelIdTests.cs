using Sfu.Media.Sdp;

namespace Sfu.Tests.Media.Sdp;

public class H264ProfileLevelIdTests
{
    [TestCase("42e01f", H264Profile.ConstrainedBaseline)]
    [TestCase("42c02a", H264Profile.ConstrainedBaseline)]
    [TestCase("4de01f", H264Profile.ConstrainedBaseline)]
    [TestCase("58f01f", H264Profile.ConstrainedBaseline)]
    [TestCase("42001f", H264Profile.Baseline)]
    [TestCase("42a01f", H264Profile.Baseline)]
    [TestCase("58a01f", H264Profile.Baseline)]
    [TestCase("4d001f", H264Profile.Main)]
    [TestCase("4d401f", H264Profile.Main)]
    [TestCase("640c1f", H264Profile.ConstrainedHigh)]
    [TestCase("64001f", H264Profile.High)]
    public void Profile_IsClassifiedFromProfileIdcAndConstraintFlags(string text, H264Profile expected)
    {
        Assert.That(H264ProfileLevelId.TryParse(text, out var id), Is.True);
        Assert.That(id.Profile, Is.EqualTo(expected));
    }

    [TestCase("6e001f")]
    [TestCase("f4001f")]
    public void Profile_IsNullForProfilesWebRtcDoesNotUse(string text)
    {
        Assert.That(H264ProfileLevelId.TryParse(text, out var id), Is.True);
        Assert.That(id.Profile, Is.Null);
    }

    [TestCase("")]
    [TestCase("42e01")]
    [TestCase("42e01fff")]
    [TestCase("zze01f")]
    [TestCase("42e000")]
    public void TryParse_RejectsMalformedIds(string text)
    {
        Assert.That(H264ProfileLevelId.TryParse(text, out _), Is.False);
    }

    [Test]
    public void Level1b_OrdersBetweenLevel1AndLevel11()
    {
        H264ProfileLevelId.TryParse("42f00b", out var level1b);
        H264ProfileLevelId.TryParse("42e00a", out var level1);
        H264ProfileLevelId.TryParse("42e00b", out var level11);

        Assert.That(level1b.LevelOrder, Is.GreaterThan(level1.LevelOrder).And.LessThan(level11.LevelOrder));
    }

    [Test]
    public void AbsentProfileLevelId_MeansBaselineLevel1()
    {
        var id = H264ProfileLevelId.FromParameters(FormatParameters.Parse("packetization-mode=1"));

        Assert.That(id!.Value.ToString(), Is.EqualTo("42000a"));
        Assert.That(id.Value.Profile, Is.EqualTo(H264Profile.Baseline));
    }
}
