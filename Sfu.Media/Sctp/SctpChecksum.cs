using System.Buffers.Binary;
using System.Numerics;

namespace Sfu.Media.Sctp;

/// <summary>
/// The CRC32c of an SCTP packet (RFC 9260 appendix A), computed with the checksum field taken as zero and stored
/// little-endian, the byte order the reflected CRC produces. BitOperations.Crc32C uses the CPU's instruction where
/// there is one.
/// </summary>
internal static class SctpChecksum
{
    public const int Offset = 8;

    public static uint Compute(ReadOnlySpan<byte> packet)
    {
        uint crc = Update(uint.MaxValue, packet[..Offset]);
        crc = BitOperations.Crc32C(crc, 0u);
        crc = Update(crc, packet[(Offset + 4)..]);
        return ~crc;
    }

    public static bool IsValid(ReadOnlySpan<byte> packet) =>
        BinaryPrimitives.ReadUInt32LittleEndian(packet[Offset..]) == Compute(packet);

    public static void Write(Span<byte> packet) =>
        BinaryPrimitives.WriteUInt32LittleEndian(packet[Offset..], Compute(packet));

    private static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (byte b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }
}
