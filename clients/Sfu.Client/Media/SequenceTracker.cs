namespace Sfu.Client.Media;

/// <summary>
/// Follows one stream's 16-bit sequence numbers as 64-bit extended ones and remembers the last 1024 seen,
/// so it can tell a new packet from a duplicate and a late (reordered or retransmitted) one, and count what
/// is still missing. Loss is what never arrived: expected (highest - first + 1) minus distinct packets.
/// </summary>
public sealed class SequenceTracker
{
    private const int WindowBits = 1024;

    private readonly ulong[] _window = new ulong[WindowBits / 64];
    private long _first = -1;
    private long _highest = -1;

    public long Distinct { get; private set; }

    public long Duplicates { get; private set; }

    /// <summary>Packets older than the highest seen that filled a hole (reordering or a retransmission).</summary>
    public long Late { get; private set; }

    /// <summary>Packets so old the window no longer covers them; neither counted as new nor as duplicates.</summary>
    public long TooOld { get; private set; }

    /// <summary>Times the sequence jumped forward by more than one: each is a gap, however long.</summary>
    public long Gaps { get; private set; }

    public long HighestExtended => _highest;

    public long Expected => _highest < 0 ? 0 : _highest - _first + 1;

    /// <summary>Packets never received (late arrivals already subtracted).</summary>
    public long Lost => Expected - Distinct;

    public SequenceOutcome Accept(ushort sequence)
    {
        if (_highest < 0)
        {
            _first = _highest = sequence;
            Mark(sequence);
            Distinct++;
            return SequenceOutcome.New;
        }

        long extended = _highest + (short)(sequence - (ushort)_highest);
        if (extended > _highest)
        {
            long step = extended - _highest;
            if (step > 1)
            {
                Gaps++;
            }

            for (long s = Math.Max(_highest + 1, extended - WindowBits + 1); s < extended; s++)
            {
                Clear(s);
            }

            _highest = extended;
            Mark(extended);
            Distinct++;
            return SequenceOutcome.New;
        }

        if (extended < _first || extended <= _highest - WindowBits)
        {
            TooOld++;
            return SequenceOutcome.TooOld;
        }

        if (IsMarked(extended))
        {
            Duplicates++;
            return SequenceOutcome.Duplicate;
        }

        Mark(extended);
        Distinct++;
        Late++;
        return SequenceOutcome.Late;
    }

    /// <summary>Up to <paramref name="destination"/>.Length missing sequence numbers within the window, oldest first.</summary>
    public int CopyMissing(Span<ushort> destination)
    {
        int count = 0;
        for (long s = Math.Max(_first, _highest - WindowBits + 1); s < _highest && count < destination.Length; s++)
        {
            if (!IsMarked(s))
            {
                destination[count++] = (ushort)s;
            }
        }

        return count;
    }

    private void Mark(long s) => _window[(s & (WindowBits - 1)) >> 6] |= 1UL << (int)(s & 63);

    private void Clear(long s) => _window[(s & (WindowBits - 1)) >> 6] &= ~(1UL << (int)(s & 63));

    private bool IsMarked(long s) => (_window[(s & (WindowBits - 1)) >> 6] & (1UL << (int)(s & 63))) != 0;
}

public enum SequenceOutcome
{
    New,
    Late,
    Duplicate,
    TooOld,
}
