namespace Sfu.Client.Transport.IceTcp;

/// <summary>
/// For tests: makes the client's ICE-TCP byte stream as awkward as a real network's, reproducibly. Writes hold back
/// between 1 and <see cref="MaxFramesPerWrite"/> frames and then go out cut at random byte offsets (inside a length
/// prefix, inside a packet, across a frame boundary), one socket write per piece with Nagle off, so the server's reads
/// end inside frames and hold several frames at once. Reads take between 1 and <see cref="MaxReadChunk"/> bytes at a
/// time, so the client's own framer meets the same. Frames held back go out at the next heartbeat at the latest.
/// </summary>
/// <param name="Seed">Seeds the random cuts, so a failing run can be repeated.</param>
/// <param name="MaxFramesPerWrite">Most frames coalesced into one burst of writes.</param>
/// <param name="MaxPiece">Largest piece of a burst handed to one socket write.</param>
/// <param name="MaxReadChunk">Largest read from the socket.</param>
public sealed record IceTcpShaping(int Seed, int MaxFramesPerWrite = 4, int MaxPiece = 700, int MaxReadChunk = 4000)
{
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFramesPerWrite, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPiece, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReadChunk, 1);
    }
}
