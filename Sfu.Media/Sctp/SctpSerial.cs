namespace Sfu.Media.Sctp;

/// <summary>Serial number arithmetic (RFC 1982) for 32-bit TSNs and 16-bit stream sequence numbers, which wrap.</summary>
internal static class SctpSerial
{
    public static bool IsAfter(uint a, uint b) => (int)(a - b) > 0;

    public static bool IsAtOrBefore(uint a, uint b) => (int)(a - b) <= 0;

    public static bool IsAfter(ushort a, ushort b) => (short)(ushort)(a - b) > 0;
}
