using Sfu.Media.IceTcp;

namespace Sfu.Fuzz.Targets;

/// <summary>
/// Bytes on an ICE-TCP connection (RFC 4571 frames, RFC 6544): cut into frames in one read, and again in reads that
/// end wherever the input's first byte says (inside a length, inside a packet, several frames per read). Both must give
/// the same frames in the same order; the frames written back through a connection's output buffer, read out in pieces
/// as a socket would take them, must frame to the same packets a third time.
/// </summary>
public sealed class IceTcpTarget : FuzzTarget
{
    private const int MaxFrame = 1500;

    public override void Execute(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty) return;
        var step = 1 + input[0] % 7;
        var stream = input[1..];

        var whole = Frames(stream, stream.Length);
        var pieces = Frames(stream, step);
        Same(whole, pieces, "one read and reads of " + step + " bytes");

        var output = new IceTcpOutputBuffer(8 * 1024);
        var written = new List<byte>();
        foreach (var frame in whole)
        {
            while (!output.TryWrite(frame)) Drain(output, written, step);
        }
        while (output.Pending > 0) Drain(output, written, step);
        Same(whole, Frames([.. written], step), "what the output buffer sent");
    }

    private static List<byte[]> Frames(ReadOnlySpan<byte> stream, int readSize)
    {
        var framer = new IceTcpFramer(MaxFrame);
        var frames = new List<byte[]>();
        for (var offset = 0; offset < stream.Length; offset += readSize)
        {
            var read = stream.Slice(offset, Math.Min(readSize, stream.Length - offset));
            while (!read.IsEmpty)
            {
                var status = framer.TryRead(ref read, out var frame);
                if (status == IceTcpFrameStatus.Frame)
                {
                    if (frame.IsEmpty || frame.Length > MaxFrame) throw new InvalidOperationException($"a frame of {frame.Length} bytes");
                    frames.Add(frame.ToArray());
                }
            }
        }
        return frames;
    }

    private static void Drain(IceTcpOutputBuffer output, List<byte> sent, int most)
    {
        var pending = output.PeekContiguous();
        if (pending.IsEmpty) throw new InvalidOperationException("the output buffer refused a frame while empty");
        var taken = Math.Min(most * 97, pending.Length);
        sent.AddRange(pending.Span[..taken]);
        output.Advance(taken);
    }

    private static void Same(List<byte[]> expected, List<byte[]> actual, string how)
    {
        if (expected.Count != actual.Count || expected.Where((frame, i) => !frame.AsSpan().SequenceEqual(actual[i])).Any())
            throw new InvalidOperationException($"framing differs: {how} gave {actual.Count} frames, one read {expected.Count}");
    }
}
