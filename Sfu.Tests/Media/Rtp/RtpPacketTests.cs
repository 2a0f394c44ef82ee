using Sfu.Media.Rtp;

namespace Sfu.Tests.Media.Rtp;

public class RtpPacketTests
{
    // V=2, X=1, CC=1, M=1, PT=96, seq 0x1234, ts 0xDEADBEEF, SSRC 0x11223344, CSRC 0x55667788,
    // one-byte extensions: id 1 (abs-send-time, 3 bytes), padding byte, id 3 (transport-cc, 2 bytes),
    // id 4 (mid "a1", 2 bytes) then a padding byte to the 4-byte boundary; payload 01 02 03.
    private static byte[] OneBytePacket() => Convert.FromHexString(
        "91E01234DEADBEEF1122334455667788" +
        "BEDE0003" + "12ABCDEF" + "00" + "31" + "0102" + "41" + "6131" + "00" +
        "010203");

    [Test]
    public void TryParse_OneBytePacket_ReadsEveryHeaderField()
    {
        byte[] bytes = OneBytePacket();
        Assert.That(RtpPacket.TryParse(bytes, out RtpPacket p), Is.True);

        Assert.That(p.Version, Is.EqualTo(2));
        Assert.That(p.HasPadding, Is.False);
        Assert.That(p.HasExtension, Is.True);
        Assert.That(p.Marker, Is.True);
        Assert.That(p.PayloadType, Is.EqualTo(96));
        Assert.That(p.SequenceNumber, Is.EqualTo(0x1234));
        Assert.That(p.Timestamp, Is.EqualTo(0xDEADBEEF));
        Assert.That(p.Ssrc, Is.EqualTo(0x11223344));
        Assert.That(p.CsrcCount, Is.EqualTo(1));
        Assert.That(p.GetCsrc(0), Is.EqualTo(0x55667788));
        Assert.That(p.ExtensionProfile, Is.EqualTo(RtpPacket.OneByteExtensionProfile));
        Assert.That(p.HeaderLength, Is.EqualTo(16 + 4 + 12));
        Assert.That(p.Payload.ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [Test]
    public void TryGetExtension_OneByteForm_FindsValuesAcrossPadding()
    {
        byte[] bytes = OneBytePacket();
        RtpPacket.TryParse(bytes, out RtpPacket p);

        Assert.That(p.TryGetExtension(1, out Span<byte> abs), Is.True);
        Assert.That(RtpExtensionValues.TryReadAbsSendTime(abs, out uint absSendTime), Is.True);
        Assert.That(absSendTime, Is.EqualTo(0xABCDEF));
        Assert.That(p.TryGetExtension(3, out Span<byte> twcc), Is.True);
        Assert.That(RtpExtensionValues.TryReadTransportSequenceNumber(twcc, out ushort tsn), Is.True);
        Assert.That(tsn, Is.EqualTo(0x0102));
        Assert.That(p.TryGetExtension(4, out Span<byte> mid), Is.True);
        Assert.That(mid.SequenceEqual("a1"u8), Is.True);
        Assert.That(p.TryGetExtension(2, out _), Is.False);
    }

    [Test]
    public void Setters_RewriteFieldsInPlace_WithoutTouchingNeighbours()
    {
        byte[] bytes = OneBytePacket();
        RtpPacket.TryParse(bytes, out RtpPacket p);

        p.PayloadType = 111;
        p.SequenceNumber = 0xFFFF;
        p.Timestamp = 7;
        p.Ssrc = 0xCAFEBABE;

        Assert.That(RtpPacket.TryParse(bytes, out RtpPacket q), Is.True);
        Assert.That(q.PayloadType, Is.EqualTo(111));
        Assert.That(q.Marker, Is.True);
        Assert.That(q.SequenceNumber, Is.EqualTo(0xFFFF));
        Assert.That(q.Timestamp, Is.EqualTo(7u));
        Assert.That(q.Ssrc, Is.EqualTo(0xCAFEBABE));
        Assert.That(q.GetCsrc(0), Is.EqualTo(0x55667788));
        p.Marker = false;
        Assert.That(q.PayloadType, Is.EqualTo(111));
        Assert.That(q.Marker, Is.False);
    }

    [Test]
    public void TrySetExtensionId_OneByteForm_RenumbersAndKeepsLength()
    {
        byte[] bytes = OneBytePacket();
        RtpPacket.TryParse(bytes, out RtpPacket p);

        Assert.That(p.TrySetExtensionId(3, 9), Is.True);

        Assert.That(p.TryGetExtension(3, out _), Is.False);
        Assert.That(p.TryGetExtension(9, out Span<byte> value), Is.True);
        Assert.That(value.ToArray(), Is.EqualTo(new byte[] { 1, 2 }));
        Assert.That(p.TrySetExtensionId(9, 15), Is.False, "15 is reserved in the one-byte form");
        Assert.That(p.TrySetExtensionId(2, 5), Is.False, "no element 2");
    }

    [Test]
    public void TryWriteTransportSequenceNumber_ThroughExtensionSpan_ChangesPacket()
    {
        byte[] bytes = OneBytePacket();
        RtpPacket.TryParse(bytes, out RtpPacket p);
        p.TryGetExtension(3, out Span<byte> value);

        Assert.That(RtpExtensionValues.TryWriteTransportSequenceNumber(value, 0xBEEF), Is.True);

        RtpPacket.TryParse(bytes, out RtpPacket q);
        q.TryGetExtension(3, out Span<byte> again);
        RtpExtensionValues.TryReadTransportSequenceNumber(again, out ushort tsn);
        Assert.That(tsn, Is.EqualTo(0xBEEF));
    }

    [Test]
    public void TryGetExtension_TwoByteForm_ReadsZeroLengthAndLongValues()
    {
        // appbits 0, id 5 with 0 bytes, padding, id 200 with 3 bytes (audio level 0x85 + 2), padding to 8 bytes.
        byte[] bytes = Convert.FromHexString("90080001000000000000ABCD" + "10000002" + "0500" + "00" + "C803" + "851122" + "FF");
        Assert.That(RtpPacket.TryParse(bytes, out RtpPacket p), Is.True);

        Assert.That(p.TryGetExtension(5, out Span<byte> empty), Is.True);
        Assert.That(empty.Length, Is.EqualTo(0));
        Assert.That(p.TryGetExtension(200, out Span<byte> level), Is.True);
        Assert.That(RtpExtensionValues.TryReadAudioLevel(level, out bool voice, out byte dbov), Is.True);
        Assert.That(voice, Is.True);
        Assert.That(dbov, Is.EqualTo(5));
        Assert.That(p.TrySetExtensionId(200, 20), Is.True);
        Assert.That(p.TryGetExtension(20, out _), Is.True);
        Assert.That(p.Payload.ToArray(), Is.EqualTo(new byte[] { 0xFF }));
    }

    [Test]
    public void TryParse_Padding_ExcludedFromPayload()
    {
        byte[] bytes = Convert.FromHexString("A06000010000000100000002" + "AABB" + "000003");
        Assert.That(RtpPacket.TryParse(bytes, out RtpPacket p), Is.True);

        Assert.That(p.PaddingLength, Is.EqualTo(3));
        Assert.That(p.Payload.ToArray(), Is.EqualTo(new byte[] { 0xAA, 0xBB }));
    }

    [TestCase("", TestName = "TryParse_Empty_ReturnsFalse")]
    [TestCase("8060000100000001000000", TestName = "TryParse_ShorterThanFixedHeader_ReturnsFalse")]
    [TestCase("4060000100000001000000020102", TestName = "TryParse_Version1_ReturnsFalse")]
    [TestCase("826000010000000100000002000000AA", TestName = "TryParse_CsrcCountBeyondBuffer_ReturnsFalse")]
    [TestCase("906000010000000100000002BEDE0002AAAAAAAA", TestName = "TryParse_ExtensionLengthBeyondBuffer_ReturnsFalse")]
    [TestCase("A0600001000000010000000200", TestName = "TryParse_ZeroPaddingCount_ReturnsFalse")]
    [TestCase("A060000100000001000000020105", TestName = "TryParse_PaddingLongerThanPayload_ReturnsFalse")]
    public void TryParse_Malformed(string hex)
    {
        Assert.That(RtpPacket.TryParse(Convert.FromHexString(hex), out _), Is.False);
    }

    [Test]
    public void TryGetExtension_ElementOverrunningExtensionBlock_ReturnsFalse()
    {
        // One-byte element id 1 claims 16 bytes in a 4-byte block.
        byte[] bytes = Convert.FromHexString("906000010000000100000002BEDE00011F000000");
        Assert.That(RtpPacket.TryParse(bytes, out RtpPacket p), Is.True);

        Assert.That(p.TryGetExtension(1, out _), Is.False);
    }

    [Test]
    public void TryParse_RandomAndTruncatedBuffers_NeverThrow()
    {
        var random = new Random(3550);
        byte[] seed = OneBytePacket();
        byte[] buffer = new byte[64];
        int parsed = 0;
        for (int i = 0; i < 20000; i++)
        {
            int length = random.Next(buffer.Length);
            if (i % 2 == 0)
            {
                random.NextBytes(buffer);
                buffer[0] = (byte)(0x80 | (buffer[0] & 0x3F)); // mostly version 2 so parsing goes deep
            }
            else
            {
                length = Math.Min(length, seed.Length);
                seed.AsSpan(0, length).CopyTo(buffer);
                buffer[random.Next(Math.Max(length, 1))] ^= (byte)random.Next(1, 256);
            }

            if (RtpPacket.TryParse(buffer.AsSpan(0, length), out RtpPacket p))
            {
                parsed++;
                Assert.That(p.HeaderLength + p.PaddingLength, Is.LessThanOrEqualTo(length));
                for (int id = 1; id < 16; id++)
                {
                    p.TryGetExtension(id, out _);
                }

                p.TrySetExtensionId(1, 2);
                RtpKeyframe.IsVp8(p.Payload);
                RtpKeyframe.IsVp9(p.Payload);
                RtpKeyframe.IsH264(p.Payload);
                RtpKeyframe.IsAv1(p.Payload);
            }
        }

        Assert.That(parsed, Is.GreaterThan(100), "the fuzz should reach the extension and payload code");
    }

    [Test]
    public void ToAbsSendTime_OneAndAHalfSeconds_Is6Dot18FixedPoint()
    {
        Assert.That(RtpExtensionValues.ToAbsSendTime(1_500_000, 1_000_000), Is.EqualTo((1u << 18) + (1u << 17)));
        // 64 s wraps to zero; a host up for a year does not overflow.
        Assert.That(RtpExtensionValues.ToAbsSendTime(64_000_000_000, 1_000_000_000), Is.EqualTo(0u));
        long yearInNs = 365L * 24 * 3600 * 1_000_000_000 + 250_000_000;
        Assert.That(RtpExtensionValues.ToAbsSendTime(yearInNs, 1_000_000_000), Is.EqualTo((((365u * 24 * 3600) % 64) << 18) + (1u << 16)));
    }

    [Test]
    public void TryWriteAbsSendTime_RoundTrips()
    {
        Span<byte> value = stackalloc byte[3];
        Assert.That(RtpExtensionValues.TryWriteAbsSendTime(value, 0x123456), Is.True);
        RtpExtensionValues.TryReadAbsSendTime(value, out uint read);
        Assert.That(read, Is.EqualTo(0x123456u));
        Assert.That(RtpExtensionValues.TryWriteAbsSendTime(stackalloc byte[2], 1), Is.False);
    }
}
