using Sfu.Media.Sdp;

namespace Sfu.Tests.Media.Sdp;

public class SdpMalformedTests
{
    private const string Head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";

    // Each case: the offending line and the line number it lands on (Head is 4 lines).
    private static readonly object[] BadMediaLines =
    [
        new object[] { "m=audio 9 UDP/TLS/RTP/SAVPF", 5 },
        new object[] { "m=audio nine UDP/TLS/RTP/SAVPF 111", 5 },
        new object[] { "m=audio 70000 UDP/TLS/RTP/SAVPF 111", 5 },
        new object[] { "m=audio 9 UDP/TLS/RTP/SAVPF 111 abc", 5 },
        new object[] { "m=audio 9 UDP/TLS/RTP/SAVPF 128", 5 },
    ];

    private static readonly object[] BadAttributes =
    [
        "a=rtpmap:111",
        "a=rtpmap:111 opus",
        "a=rtpmap:300 opus/48000/2",
        "a=rtpmap:111 opus/fast/2",
        "a=fmtp:xyz apt=96",
        "a=fmtp:111",
        "a=rtcp-fb:111",
        "a=extmap:0 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=extmap:4/sideways urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=extmap:4",
        "a=ssrc:abc cname:x",
        "a=ssrc:123",
        "a=ssrc-group:FID 1 two",
        "a=rid:q sideways",
        "a=simulcast:send",
        "a=simulcast:up q;h",
        "a=simulcast:send q;;f",
        "a=setup:maybe",
        "a=fingerprint:sha-256",
        "a=candidate:1 1 udp 2122260223 10.0.0.1 5000 host",
        "a=candidate:1 1 udp notanumber 10.0.0.1 5000 typ host",
        "a=mid:",
        "a=:value",
    ];

    [TestCaseSource(nameof(BadMediaLines))]
    public void MalformedMediaLine_ThrowsWithLineNumber(string line, int expectedLine)
    {
        var ex = Assert.Throws<SdpParseException>(() => SdpParser.Parse(Head + line + "\r\n"));

        Assert.That(ex!.LineNumber, Is.EqualTo(expectedLine));
        Assert.That(ex.Line, Is.EqualTo(line));
        Assert.That(ex.Message, Does.Contain("line " + expectedLine));
    }

    [TestCaseSource(nameof(BadAttributes))]
    public void MalformedMediaAttribute_ThrowsWithLineNumber(string line)
    {
        var text = Head + "m=video 9 UDP/TLS/RTP/SAVPF 96 111\r\na=mid:0\r\n" + line + "\r\na=rtcp-mux\r\n";

        var ex = Assert.Throws<SdpParseException>(() => SdpParser.Parse(text));

        Assert.That(ex!.LineNumber, Is.EqualTo(7));
        Assert.That(ex.Line, Is.EqualTo(line));
    }

    [Test]
    public void DuplicateRtpmap_Throws()
    {
        var text = Head + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:111 opus/48000/2\r\n";

        var ex = Assert.Throws<SdpParseException>(() => SdpParser.Parse(text));

        Assert.That(ex!.LineNumber, Is.EqualTo(7));
        Assert.That(ex.Reason, Does.Contain("two rtpmap"));
    }

    [Test]
    public void MissingVersionLine_Throws()
    {
        var ex = Assert.Throws<SdpParseException>(() => SdpParser.Parse("o=- 1 1 IN IP4 0.0.0.0\r\n"));

        Assert.That(ex!.LineNumber, Is.EqualTo(1));
    }

    [Test]
    public void EmptyText_Throws()
    {
        Assert.Throws<SdpParseException>(() => SdpParser.Parse(""));
        Assert.Throws<SdpParseException>(() => SdpParser.Parse("\r\n\r\n"));
    }

    [Test]
    public void LineWithoutTypeAndEquals_ThrowsWithItsNumber()
    {
        var ex = Assert.Throws<SdpParseException>(() => SdpParser.Parse(Head + "hello world\r\n"));

        Assert.That(ex!.LineNumber, Is.EqualTo(5));
    }

    [Test]
    public void BadOriginLine_Throws()
    {
        var ex = Assert.Throws<SdpParseException>(() => SdpParser.Parse("v=0\r\no=- 1 notanumber IN IP4 0.0.0.0\r\n"));

        Assert.That(ex!.LineNumber, Is.EqualTo(2));
    }

    [Test]
    public void SessionLevelBadGroup_Throws()
    {
        var ex = Assert.Throws<SdpParseException>(() => SdpParser.Parse(Head + "a=group:\r\n"));

        Assert.That(ex!.LineNumber, Is.EqualTo(5));
    }

    [Test]
    public void Garbage_NeverThrowsAnythingButSdpParseException()
    {
        // Every fixture truncated or with a line mangled must fail cleanly, never with a runtime exception.
        var text = SdpFixtures.Load(SdpFixtures.ChromeSimulcast);
        var lines = text.Split("\r\n");
        var random = new Random(1234);
        for (var i = 0; i < 500; i++)
        {
            var mangled = (string[])lines.Clone();
            var index = random.Next(1, mangled.Length);
            var line = mangled[index];
            var cut = line.Length == 0 ? 0 : random.Next(0, line.Length);
            mangled[index] = random.Next(3) switch
            {
                0 => line[..cut],
                1 => line[..cut] + " " + line[cut..],
                _ => line[..cut] + ":" + line[cut..],
            };

            try
            {
                SdpParser.Parse(string.Join("\r\n", mangled));
            }
            catch (SdpParseException)
            {
            }
        }

        Assert.Pass();
    }
}
