namespace Sfu.Media.Srtp;

/// <summary>
/// The 48-bit SRTP packet index, ROC * 2^16 + SEQ, guessed from a 16-bit sequence number
/// and the highest index seen so far (RFC 3711 section 3.3.1 and Appendix A).
/// </summary>
internal static class SrtpPacketIndex
{
    private const int Half = 1 << 15;

    /// <summary>
    /// Picks the ROC that puts <paramref name="sequence"/> closest to the highest index:
    /// one less when a late packet from before a wrap arrives, one more when the wrap just
    /// happened. A guess below zero cannot be right and becomes ROC 0; authentication
    /// settles whether the guess was true.
    /// </summary>
    public static ulong Estimate(ulong highestIndex, ushort sequence)
    {
        uint roc = (uint)(highestIndex >> 16);
        int highestSequence = (ushort)highestIndex;
        uint guess = roc;

        if (highestSequence < Half)
        {
            if (sequence - highestSequence > Half && roc > 0)
            {
                guess = roc - 1;
            }
        }
        else if (highestSequence - Half > sequence)
        {
            guess = roc + 1;
        }

        return ((ulong)guess << 16) | sequence;
    }

    public static uint Roc(ulong index) => (uint)(index >> 16);
}
