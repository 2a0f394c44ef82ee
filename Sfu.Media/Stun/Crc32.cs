namespace Sfu.Media.Stun;

/// <summary>
/// CRC-32 as in ISO 3309 / ITU-T V.42 (reflected polynomial 0xEDB88320), which STUN's FINGERPRINT uses.
/// System.IO.Hashing is a package this project cannot take, so the table is built here once.
/// </summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a CRC over more data; <paramref name="crc"/> is a previous result (0 to start).</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint[] table = Table;
        uint c = ~crc;
        foreach (byte b in data)
        {
            c = table[(c ^ b) & 0xFF] ^ (c >> 8);
        }

        return ~c;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
