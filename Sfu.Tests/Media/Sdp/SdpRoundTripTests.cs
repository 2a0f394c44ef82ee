using Sfu.Media.Sdp;

namespace Sfu.Tests.Media.Sdp;

public class SdpRoundTripTests
{
    [TestCaseSource(typeof(SdpFixtures), nameof(SdpFixtures.All))]
    public void ParseWriteParse_IsStable(string fixture)
    {
        var first = SdpWriter.Write(SdpFixtures.Parse(fixture));
        var second = SdpWriter.Write(SdpParser.Parse(first));

        Assert.That(second, Is.EqualTo(first));
    }

    [TestCaseSource(typeof(SdpFixtures), nameof(SdpFixtures.All))]
    public void Write_KeepsEveryOriginalLine(string fixture)
    {
        // The writer may reorder attributes but must not drop or alter any line a browser sent.
        var original = SdpFixtures.Load(fixture).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var written = SdpWriter.Write(SdpParser.Parse(SdpFixtures.Load(fixture))).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);

        var normalised = original.Select(l => l.Replace("a=msid-semantic:WMS", "a=msid-semantic: WMS", StringComparison.Ordinal));
        Assert.That(written, Is.SupersetOf(normalised));
        Assert.That(written, Has.Length.EqualTo(original.Length));
    }

    [Test]
    public void Write_UsesCrlfLineEnds()
    {
        var text = SdpWriter.Write(SdpFixtures.Parse(SdpFixtures.ChromeSendOnly));

        Assert.That(text, Does.EndWith("\r\n"));
        Assert.That(text.Replace("\r\n", "", StringComparison.Ordinal), Does.Not.Contain("\n"));
        Assert.That(text, Does.StartWith("v=0\r\no=- 2916593211215977616 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"));
    }
}
