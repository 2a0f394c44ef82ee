using Sfu.Media.Sctp;

namespace Sfu.Tests.Media.Sctp;

[TestFixture]
public sealed class SctpPacketReaderTests
{
    // A SACK from port 5000 to 5000, its CRC32c computed by a bit-by-bit reference implementation (polynomial
    // 0x82F63B78, reflected), stored little-endian at offset 8.
    private const string Sack = "13881388" + "0b0b0b0b" + "f610b8ce" + "03000010" + "000003e7" + "00010000" + "00000000";

    [Test]
    public void TryOpen_AcceptsTheReferenceChecksumAndReadsTheChunk()
    {
        byte[] packet = Convert.FromHexString(Sack);

        Assert.That(SctpPacketReader.TryOpen(packet, out SctpPacketReader reader), Is.True);
        Assert.That((reader.SourcePort, reader.DestinationPort, reader.VerificationTag), Is.EqualTo(((ushort)5000, (ushort)5000, 0x0B0B0B0Bu)));
        Assert.That(reader.TryReadChunk(out SctpChunk chunk), Is.True);
        Assert.That(chunk.Type, Is.EqualTo((byte)SctpChunkType.Sack));
        Assert.That(chunk.Value.Length, Is.EqualTo(12));
        Assert.That(reader.TryReadChunk(out _), Is.False);
        Assert.That(reader.Malformed, Is.False);
    }

    [Test]
    public void TryOpen_RefusesAnyChangedByte()
    {
        byte[] packet = Convert.FromHexString(Sack);
        for (int i = 0; i < packet.Length; i++)
        {
            packet[i] ^= 0x10;
            Assert.That(SctpPacketReader.TryOpen(packet, out _), Is.False, $"byte {i} changed");
            packet[i] ^= 0x10;
        }
    }

    [Test]
    public void TryReadChunk_StopsAtALengthPastThePacket()
    {
        byte[] packet = Convert.FromHexString(Sack);
        packet[15] = 0x20; // the SACK claims 32 bytes of the 16 there are
        SctpChecksum.Write(packet);

        Assert.That(SctpPacketReader.TryOpen(packet, out SctpPacketReader reader), Is.True);
        Assert.That(reader.TryReadChunk(out _), Is.False);
        Assert.That(reader.Malformed, Is.True);
    }
}
