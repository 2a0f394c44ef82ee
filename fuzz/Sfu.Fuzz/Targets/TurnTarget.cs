using System.Net;
using Sfu.Client.Transport.Turn;

namespace Sfu.Fuzz.Targets;

/// <summary>
/// Bytes from a TURN server on the client's TCP connection: cut into frames in one read and in reads of a few bytes
/// (both must give the same frames), and every frame handed to a real <see cref="TurnRelay"/> waiting for its Allocate
/// response. Each STUN frame gets the relay's outstanding transaction id first, so that error responses, nonces, realms
/// and the checks on success responses are reached, not only the transaction filter.
/// </summary>
public sealed class TurnTarget : FuzzTarget
{
    private static readonly IPEndPoint Peer = new(IPAddress.Parse("192.0.2.10"), 40000);

    public override void Execute(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty) return;
        var step = 1 + input[0] % 7;
        var stream = input[1..];
        var whole = Frames(stream, stream.Length);
        var pieces = Frames(stream, step);
        if (whole.Count != pieces.Count || whole.Where((frame, i) => !frame.AsSpan().SequenceEqual(pieces[i])).Any())
            throw new InvalidOperationException($"framing differs: one read gave {whole.Count} frames, reads of {step} bytes {pieces.Count}");

        byte[]? request = null;
        var relay = new TurnRelay(
            new TurnRelayOptions(new IPEndPoint(IPAddress.Loopback, TurnRelayOptions.DefaultPort), "1700000000:peer", "secret", TurnTransport.Tcp),
            frame => { request = frame.ToArray(); return true; },
            data => _ = data.Length);
        relay.Start(Peer);
        foreach (var frame in whole)
        {
            if (frame[0] >> 6 == 0 && request is not null) request.AsSpan(8, 12).CopyTo(frame.AsSpan(8));
            relay.OnFrame(frame);
            relay.SendToPeer(frame);
        }

        relay.Close();
    }

    private static List<byte[]> Frames(ReadOnlySpan<byte> stream, int readSize)
    {
        var buffered = new List<byte>();
        var frames = new List<byte[]>();
        for (var offset = 0; offset < stream.Length; offset += readSize)
        {
            buffered.AddRange(stream.Slice(offset, Math.Min(readSize, stream.Length - offset)));
            int length;
            while ((length = TurnFraming.FrameLength([.. buffered])) > 0)
            {
                if (length > TurnFraming.MaxFrameLength) throw new InvalidOperationException($"a frame of {length} bytes");
                frames.Add([.. buffered.GetRange(0, length)]);
                buffered.RemoveRange(0, length);
            }

            if (length < 0) return frames;
        }

        return frames;
    }
}
