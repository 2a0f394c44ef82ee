using Sfu.Media.IceTcp;

namespace Sfu.Tests.Media.IceTcp;

/// <summary>RFC 4571 framing as ICE-TCP reads it: frames split across reads, several per read, and what it refuses.</summary>
public sealed class IceTcpFramerTests
{
    [Test]
    public void FramesSplitAnywhere_AndSeveralPerRead_ComeOutWholeAndInOrder()
    {
        byte[][] packets = [[1, 2, 3], [.. Enumerable.Range(0, 1500).Select(i => (byte)i)], [9]];
        var stream = packets.SelectMany(Framed).ToArray();
        for (var readSize = 1; readSize <= stream.Length; readSize++)
        {
            var frames = Read(new IceTcpFramer(1500), stream, readSize, out var statuses);
            Assert.That(frames, Is.EqualTo(packets), $"reads of {readSize} bytes");
            Assert.That(statuses, Has.None.EqualTo(IceTcpFrameStatus.Oversized).And.None.EqualTo(IceTcpFrameStatus.Empty));
        }
    }

    [Test]
    public void AnOversizedFrameIsSkipped_AndAnEmptyOneReported_AndTheStreamStaysInStep()
    {
        var stream = Framed(new byte[1501]).Concat(new byte[] { 0, 0 }).Concat(Framed([7, 7])).ToArray();
        foreach (var readSize in new[] { 1, 2, 100, stream.Length })
        {
            var frames = Read(new IceTcpFramer(1500), stream, readSize, out var statuses);
            Assert.That(frames, Is.EqualTo(new[] { new byte[] { 7, 7 } }), $"reads of {readSize} bytes");
            Assert.That(statuses, Is.EqualTo(new[] { IceTcpFrameStatus.Oversized, IceTcpFrameStatus.Empty, IceTcpFrameStatus.Frame }));
        }
    }

    [Test]
    public void Write_PutsTheLengthBigEndianFirst()
    {
        var destination = new byte[300];
        var written = IceTcpFramer.Write(new byte[258], destination);
        Assert.That((written, destination[0], destination[1]), Is.EqualTo((260, (byte)1, (byte)2)));
    }

    private static byte[] Framed(byte[] packet)
    {
        var framed = new byte[packet.Length + 2];
        IceTcpFramer.Write(packet, framed);
        return framed;
    }

    private static List<byte[]> Read(IceTcpFramer framer, byte[] stream, int readSize, out List<IceTcpFrameStatus> statuses)
    {
        var frames = new List<byte[]>();
        statuses = [];
        for (var offset = 0; offset < stream.Length; offset += readSize)
        {
            ReadOnlySpan<byte> read = stream.AsSpan(offset, Math.Min(readSize, stream.Length - offset));
            while (!read.IsEmpty)
            {
                var status = framer.TryRead(ref read, out var frame);
                if (status == IceTcpFrameStatus.NeedMore) continue;
                statuses.Add(status);
                if (status == IceTcpFrameStatus.Frame) frames.Add(frame.ToArray());
            }
        }
        return frames;
    }
}
