namespace Sfu.Tests.Fuzzing;

/// <summary>
/// Deterministic variations of a seed, in the spirit of AFL's havoc stage: bit flips, boundary bytes, truncation,
/// insertion, deletion and duplication of a run, one to four of them stacked. Seeded, so a failure names an input
/// that the next run produces again.
/// </summary>
internal sealed class ByteMutator(int seed)
{
    private static readonly byte[] Boundaries = [0x00, 0x01, 0x7F, 0x80, 0xFF, (byte)'\n', (byte)'"', (byte)'{'];

    private readonly Random _random = new(seed);

    public byte[] Mutate(byte[] seedInput)
    {
        var bytes = new List<byte>(seedInput);
        int steps = 1 + _random.Next(4);
        for (int step = 0; step < steps; step++)
        {
            int at = bytes.Count == 0 ? 0 : _random.Next(bytes.Count);
            switch (_random.Next(6))
            {
                case 0 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << _random.Next(8));
                    break;
                case 1 when bytes.Count > 0:
                    bytes[at] = Boundaries[_random.Next(Boundaries.Length)];
                    break;
                case 2:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 3:
                    var inserted = new byte[1 + _random.Next(16)];
                    _random.NextBytes(inserted);
                    bytes.InsertRange(at, inserted);
                    break;
                case 4 when bytes.Count > 0:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + _random.Next(16)));
                    break;
                case 5 when bytes.Count > 0:
                    bytes.InsertRange(_random.Next(bytes.Count), bytes.GetRange(at, Math.Min(bytes.Count - at, 1 + _random.Next(32))));
                    break;
            }
        }

        return [.. bytes];
    }
}
