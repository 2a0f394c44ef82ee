using Sfu.Media.Rtcp;

namespace Sfu.Tests.Media.Rtcp;

public class RtcpPacketTests
{
    [Test]
    public void SenderReport_HandBuiltPacket_ParsesSenderInfoAndBlock()
    {
        byte[] packet = Convert.FromHexString(
            "81C8000C" + "11111111" + "E1B2C3D4" + "80000000" + "00001000" + "00000064" + "00002710" +
            "22222222" + "40" + "FFFFFE" + "00010005" + "00000020" + "B2C3D480" + "00008000");

        Assert.That(RtcpSenderReport.TryParse(packet, out RtcpSenderReport sr), Is.True);
        Assert.That(sr.Ssrc, Is.EqualTo(0x11111111u));
        Assert.That(sr.NtpTimestamp, Is.EqualTo(0xE1B2C3D480000000ul));
        Assert.That(sr.CompactNtp, Is.EqualTo(0xC3D48000u));
        Assert.That(sr.RtpTimestamp, Is.EqualTo(0x1000u));
        Assert.That(sr.PacketCount, Is.EqualTo(100u));
        Assert.That(sr.OctetCount, Is.EqualTo(10000u));
        Assert.That(sr.ReportCount, Is.EqualTo(1));
        RtcpReportBlock block = sr.GetReportBlock(0);
        Assert.That(block, Is.EqualTo(new RtcpReportBlock(0x22222222, 0x40, -2, 0x00010005, 0x20, 0xB2C3D480, 0x8000)));
    }

    [Test]
    public void SenderReport_WriteThenParse_RoundTrips()
    {
        RtcpReportBlock[] blocks = [new(1, 2, 3, 4, 5, 6, 7), new(8, 255, -8_388_608, 10, 11, 12, 13)];
        byte[] buffer = new byte[128];

        Assert.That(RtcpSenderReport.TryWrite(buffer, 0xABCD, 0x0102030405060708, 90000, 5, 500, blocks, out int written), Is.True);

        Assert.That(written, Is.EqualTo(28 + 48));
        Assert.That(RtcpSenderReport.TryParse(buffer.AsSpan(0, written), out RtcpSenderReport sr), Is.True);
        Assert.That(sr.NtpTimestamp, Is.EqualTo(0x0102030405060708ul));
        Assert.That(sr.GetReportBlock(0), Is.EqualTo(blocks[0]));
        Assert.That(sr.GetReportBlock(1), Is.EqualTo(blocks[1]));
        Assert.That(RtcpSenderReport.TryWrite(buffer.AsSpan(0, 60), 1, 1, 1, 1, 1, blocks, out _), Is.False);
    }

    [Test]
    public void ReceiverReport_WriteThenParse_ClampsCumulativeLostTo24Bits()
    {
        RtcpReportBlock[] blocks = [new(9, 1, 20_000_000, 70000, 3, 0, 0)];
        byte[] buffer = new byte[64];

        Assert.That(RtcpReceiverReport.TryWrite(buffer, 0x1234, blocks, out int written), Is.True);

        Assert.That(RtcpReceiverReport.TryParse(buffer.AsSpan(0, written), out RtcpReceiverReport rr), Is.True);
        Assert.That(rr.Ssrc, Is.EqualTo(0x1234u));
        Assert.That(rr.ReportCount, Is.EqualTo(1));
        Assert.That(rr.GetReportBlock(0).CumulativeLost, Is.EqualTo(0x7FFFFF));
        Assert.That(rr.GetReportBlock(0).ExtendedHighestSequenceNumber, Is.EqualTo(70000u));
    }

    [Test]
    public void ReceiverReport_CountBeyondLength_ReturnsFalse()
    {
        // RC = 1 but no block follows.
        Assert.That(RtcpReceiverReport.TryParse(Convert.FromHexString("81C9000100001234"), out _), Is.False);
        Assert.That(RtcpReceiverReport.TryParse(Convert.FromHexString("80C9000100001234"), out _), Is.True);
    }

    [Test]
    public void Sdes_WriteCnameThenParse_RoundTrips()
    {
        byte[] buffer = new byte[64];
        Assert.That(RtcpSdes.TryWriteCname(buffer, 0xFEEDBEEF, "user@host"u8, out int written), Is.True);
        Assert.That(written % 4, Is.EqualTo(0));

        Assert.That(RtcpSdes.TryParse(buffer.AsSpan(0, written), out RtcpSdes sdes), Is.True);
        int chunks = 0;
        foreach (RtcpSdesChunk chunk in sdes.GetChunks())
        {
            chunks++;
            Assert.That(chunk.Ssrc, Is.EqualTo(0xFEEDBEEF));
            Assert.That(chunk.Cname.SequenceEqual("user@host"u8), Is.True);
        }

        Assert.That(chunks, Is.EqualTo(1));
    }

    [Test]
    public void Sdes_TwoChunksWithOtherItems_FindsEachCname()
    {
        // Chunk 1: NAME "ab" then CNAME "c", end, pad. Chunk 2: CNAME "xyz", end.
        byte[] packet = Convert.FromHexString(
            "82CA0006" +
            "00000001" + "02026162" + "01016300" +
            "00000002" + "0103" + "78797A" + "00" + "0000");
        Assert.That(packet.Length, Is.EqualTo(28));

        Assert.That(RtcpSdes.TryParse(packet, out RtcpSdes sdes), Is.True);
        var found = new List<(uint, string)>();
        foreach (RtcpSdesChunk chunk in sdes.GetChunks())
        {
            found.Add((chunk.Ssrc, System.Text.Encoding.ASCII.GetString(chunk.Cname)));
        }

        Assert.That(found, Is.EqualTo(new[] { (1u, "c"), (2u, "xyz") }));
    }

    [Test]
    public void Sdes_ItemOverrunningPacket_ReturnsFalse()
    {
        Assert.That(RtcpSdes.TryParse(Convert.FromHexString("81CA0002" + "00000001" + "01096162"), out _), Is.False);
    }

    [Test]
    public void Bye_WithReason_RoundTrips()
    {
        byte[] buffer = new byte[64];
        Assert.That(RtcpBye.TryWrite(buffer, [7u, 8u], "gone"u8, out int written), Is.True);
        Assert.That(written, Is.EqualTo(4 + 8 + 8));

        Assert.That(RtcpBye.TryParse(buffer.AsSpan(0, written), out RtcpBye bye), Is.True);
        Assert.That(bye.SourceCount, Is.EqualTo(2));
        Assert.That(bye.GetSsrc(1), Is.EqualTo(8u));
        Assert.That(bye.Reason.SequenceEqual("gone"u8), Is.True);
    }

    [Test]
    public void Nack_HandBuiltPacket_ExpandsPidAndBitmask()
    {
        // PID 100, BLP 0b101: 100, 101, 103. PID 65535, BLP bit 0: 65535, 0.
        byte[] packet = Convert.FromHexString("81CD0004" + "00000001" + "00000002" + "00640005" + "FFFF0001");

        Assert.That(RtcpNack.TryParse(packet, out RtcpNack nack), Is.True);
        Assert.That(nack.MediaSsrc, Is.EqualTo(2u));
        Assert.That(nack.ItemCount, Is.EqualTo(2));
        Assert.That(nack.LostCount, Is.EqualTo(5));
        ushort[] lost = new ushort[16];
        int count = nack.CopyLostSequenceNumbers(lost);
        Assert.That(lost[..count], Is.EqualTo(new ushort[] { 100, 101, 103, 65535, 0 }));
        Assert.That(nack.CopyLostSequenceNumbers(lost.AsSpan(0, 2)), Is.EqualTo(2));
    }

    [Test]
    public void Nack_WriteAcrossWraparound_PacksIntoFewestItemsAndRoundTrips()
    {
        ushort[] lost = [65534, 65535, 0, 1, 14, 20, 40];
        byte[] buffer = new byte[64];

        Assert.That(RtcpNack.TryWrite(buffer, 5, 6, lost, out int written), Is.True);

        Assert.That(RtcpNack.TryParse(buffer.AsSpan(0, written), out RtcpNack nack), Is.True);
        Assert.That(nack.ItemCount, Is.EqualTo(3), "65534..14 fit one item; 20 and 40 need their own");
        Assert.That(nack.GetPacketId(0), Is.EqualTo(65534));
        Assert.That(nack.GetBitmask(0), Is.EqualTo((ushort)(0b111 | (1 << 15))));
        ushort[] expanded = new ushort[32];
        int count = nack.CopyLostSequenceNumbers(expanded);
        Assert.That(expanded[..count], Is.EqualTo(lost));
    }

    [Test]
    public void Pli_Write_MatchesRfc4585Layout()
    {
        byte[] buffer = new byte[12];
        Assert.That(new RtcpPli(0x01020304, 0x0A0B0C0D).TryWrite(buffer, out int written), Is.True);

        Assert.That(buffer[..written], Is.EqualTo(Convert.FromHexString("81CE0002" + "01020304" + "0A0B0C0D")));
        Assert.That(RtcpPli.TryParse(buffer, out RtcpPli pli), Is.True);
        Assert.That(pli, Is.EqualTo(new RtcpPli(0x01020304, 0x0A0B0C0D)));
        Assert.That(RtcpNack.TryParse(buffer, out _), Is.False, "a PLI is not an RTPFB packet");
    }

    [Test]
    public void Fir_Write_MatchesRfc5104Layout()
    {
        byte[] buffer = new byte[32];
        Assert.That(RtcpFir.TryWrite(buffer, 0x01, [new RtcpFirEntry(0xAABBCCDD, 5)], out int written), Is.True);

        Assert.That(buffer[..written], Is.EqualTo(Convert.FromHexString("84CE0004" + "00000001" + "00000000" + "AABBCCDD" + "05000000")));
        Assert.That(RtcpFir.TryParse(buffer.AsSpan(0, written), out RtcpFir fir), Is.True);
        Assert.That(fir.EntryCount, Is.EqualTo(1));
        Assert.That(fir.GetEntry(0), Is.EqualTo(new RtcpFirEntry(0xAABBCCDD, 5)));
        Assert.That(RtcpPli.TryParse(buffer.AsSpan(0, written), out _), Is.False, "FMT 4 is not a PLI");
    }

    [Test]
    public void Remb_OneMegabit_EncodesExponentAndMantissa()
    {
        byte[] buffer = new byte[32];
        Assert.That(RtcpRemb.TryWrite(buffer, 0x01, 1_000_000, [0x12345678u], out int written), Is.True);

        // 1 000 000 = 250 000 << 2: exponent 2, mantissa 0x3D090.
        Assert.That(buffer[..written], Is.EqualTo(Convert.FromHexString("8FCE0005" + "00000001" + "00000000" + "52454D42" + "01" + "0BD090" + "12345678")));
        Assert.That(RtcpRemb.TryParse(buffer.AsSpan(0, written), out RtcpRemb remb), Is.True);
        Assert.That(remb.Bitrate, Is.EqualTo(1_000_000ul));
        Assert.That(remb.SsrcCount, Is.EqualTo(1));
        Assert.That(remb.GetSsrc(0), Is.EqualTo(0x12345678u));
    }

    [Test]
    public void Remb_LargeBitrate_LosesOnlyLowBits()
    {
        byte[] buffer = new byte[32];
        RtcpRemb.TryWrite(buffer, 1, 123_456_789_012, [], out int written);

        RtcpRemb.TryParse(buffer.AsSpan(0, written), out RtcpRemb remb);
        Assert.That(remb.Bitrate, Is.LessThanOrEqualTo(123_456_789_012ul));
        Assert.That(remb.Bitrate, Is.GreaterThan(123_456_789_012ul - (123_456_789_012ul >> 17)));
    }

    [Test]
    public void Remb_OtherApplicationLayerFeedback_ReturnsFalse()
    {
        byte[] packet = Convert.FromHexString("8FCE0004" + "00000001" + "00000000" + "41424344" + "00000000");
        Assert.That(RtcpRemb.TryParse(packet, out _), Is.False);
    }

    [Test]
    public void TransportFeedback_RunAndVectorChunksWithPadding_CountsReceived()
    {
        // base 10, 5 statuses, reference time 1, feedback #3; run of 3 "small delta", then a 2-bit vector
        // [large, not received]; deltas 3 x 1 byte + 1 x 2 bytes; P bit with 3 bytes of padding.
        byte[] packet = Convert.FromHexString(
            "AFCD0007" + "00000001" + "00000002" +
            "000A0005" + "00000103" + "2003" + "E000" + "040404" + "0100" + "000003");

        Assert.That(RtcpTransportFeedback.TryParse(packet, out RtcpTransportFeedback fb), Is.True);
        Assert.That(fb.BaseSequenceNumber, Is.EqualTo(10));
        Assert.That(fb.PacketStatusCount, Is.EqualTo(5));
        Assert.That(fb.ReferenceTime, Is.EqualTo(1));
        Assert.That(fb.FeedbackPacketCount, Is.EqualTo(3));
        Assert.That(fb.ReceivedCount, Is.EqualTo(4));
    }

    [Test]
    public void TransportFeedback_DeltasMissing_ReturnsFalse()
    {
        // Run of 8 "large delta" needs 16 bytes of deltas; only 4 present.
        byte[] packet = Convert.FromHexString("8FCD0005" + "00000001" + "00000002" + "00000008" + "FFFFFF00" + "4008" + "0000");
        Assert.That(packet.Length, Is.EqualTo(24));

        Assert.That(RtcpTransportFeedback.TryParse(packet, out _), Is.False);
    }

    [Test]
    public void TransportFeedback_NegativeReferenceTime_IsSignExtended()
    {
        byte[] packet = Convert.FromHexString("8FCD0005" + "00000001" + "00000002" + "00000001" + "FFFFFE00" + "2001" + "0100");
        Assert.That(RtcpTransportFeedback.TryParse(packet, out RtcpTransportFeedback fb), Is.True);
        Assert.That(fb.ReferenceTime, Is.EqualTo(-2));
        Assert.That(fb.ReceivedCount, Is.EqualTo(1));
    }

    [Test]
    public void CompoundReader_SrSdesPli_YieldsEachPacketInOrder()
    {
        byte[] buffer = new byte[256];
        int length = 0;
        RtcpSenderReport.TryWrite(buffer, 1, 2, 3, 4, 5, [], out int w);
        length += w;
        RtcpSdes.TryWriteCname(buffer.AsSpan(length), 1, "cname"u8, out w);
        length += w;
        new RtcpPli(1, 9).TryWrite(buffer.AsSpan(length), out w);
        length += w;

        var reader = new RtcpCompoundReader(buffer.AsSpan(0, length));
        var types = new List<byte>();
        while (reader.TryReadNext(out RtcpHeader header, out ReadOnlySpan<byte> packet))
        {
            types.Add(header.PacketType);
            Assert.That(packet.Length, Is.EqualTo(header.PacketLength));
        }

        Assert.That(types, Is.EqualTo(new byte[] { RtcpPacketType.SenderReport, RtcpPacketType.SourceDescription, RtcpPacketType.PayloadFeedback }));
        Assert.That(reader.IsMalformed, Is.False);
        Assert.That(RtcpCompoundReader.IsWellFormed(buffer.AsSpan(0, length)), Is.True);
    }

    [Test]
    public void CompoundReader_LengthBeyondBuffer_StopsAndReportsMalformed()
    {
        byte[] compound = Convert.FromHexString("80C9000100001234" + "81CE0009" + "00000001");
        var reader = new RtcpCompoundReader(compound);

        Assert.That(reader.TryReadNext(out _, out _), Is.True);
        Assert.That(reader.TryReadNext(out _, out _), Is.False);
        Assert.That(reader.IsMalformed, Is.True);
    }

    [Test]
    public void CompoundReader_PaddingOnNonLastPacket_IsMalformed()
    {
        byte[] compound = Convert.FromHexString("A0C9000200001234" + "00000004" + "80C9000100001234");
        Assert.That(RtcpCompoundReader.IsWellFormed(compound), Is.False);
        Assert.That(RtcpCompoundReader.IsWellFormed(compound.AsSpan(0, 12)), Is.True);
    }

    [Test]
    public void Parsers_RandomAndTruncatedInput_NeverThrow()
    {
        var random = new Random(4585);
        byte[] seed = Convert.FromHexString(
            "81C8000C" + "11111111" + "E1B2C3D4" + "80000000" + "00001000" + "00000064" + "00002710" +
            "22222222" + "40" + "FFFFFE" + "00010005" + "00000020" + "B2C3D480" + "00008000" +
            "81CA0003" + "00000001" + "01016300" + "00000000" +
            "8FCD0005" + "00000001" + "00000002" + "00000003" + "FFFFFE00" + "C500" + "0100");
        byte[] buffer = new byte[128];
        int packets = 0;
        for (int i = 0; i < 20000; i++)
        {
            int length = random.Next(Math.Min(buffer.Length, seed.Length + 1));
            seed.AsSpan(0, length).CopyTo(buffer);
            if (i % 3 == 0)
            {
                random.NextBytes(buffer.AsSpan(0, length));
            }

            for (int flips = random.Next(3); flips > 0 && length > 0; flips--)
            {
                buffer[random.Next(length)] = (byte)random.Next(256);
            }

            var reader = new RtcpCompoundReader(buffer.AsSpan(0, length));
            while (reader.TryReadNext(out _, out ReadOnlySpan<byte> packet))
            {
                packets++;
                Touch(packet);
            }

            // Parsers must also survive spans that are not whole packets.
            Touch(buffer.AsSpan(0, length));
        }

        Assert.That(packets, Is.GreaterThan(1000));
    }

    private static void Touch(ReadOnlySpan<byte> packet)
    {
        if (RtcpSenderReport.TryParse(packet, out RtcpSenderReport sr))
        {
            for (int i = 0; i < sr.ReportCount; i++)
            {
                sr.GetReportBlock(i);
            }
        }

        if (RtcpReceiverReport.TryParse(packet, out RtcpReceiverReport rr))
        {
            for (int i = 0; i < rr.ReportCount; i++)
            {
                rr.GetReportBlock(i);
            }
        }

        if (RtcpSdes.TryParse(packet, out RtcpSdes sdes))
        {
            foreach (RtcpSdesChunk c in sdes.GetChunks())
            {
                _ = c.Cname.Length;
            }
        }

        if (RtcpBye.TryParse(packet, out RtcpBye bye))
        {
            for (int i = 0; i < bye.SourceCount; i++)
            {
                bye.GetSsrc(i);
            }
        }

        if (RtcpNack.TryParse(packet, out RtcpNack nack))
        {
            nack.CopyLostSequenceNumbers(stackalloc ushort[64]);
        }

        if (RtcpFir.TryParse(packet, out RtcpFir fir))
        {
            for (int i = 0; i < fir.EntryCount; i++)
            {
                fir.GetEntry(i);
            }
        }

        if (RtcpRemb.TryParse(packet, out RtcpRemb remb))
        {
            for (int i = 0; i < remb.SsrcCount; i++)
            {
                remb.GetSsrc(i);
            }
        }

        RtcpPli.TryParse(packet, out _);
        RtcpTransportFeedback.TryParse(packet, out _);
    }
}
