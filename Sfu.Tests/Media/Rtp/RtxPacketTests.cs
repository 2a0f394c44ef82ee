using System.Buffers.Binary;
using Sfu.Client.Media;
using Sfu.Media.Rtp;

namespace Sfu.Tests.Media.Rtp;

public class RtxPacketTests
{
    [Test]
    public void Restore_GivesBackTheOriginalPacket_WithItsExtensionsMarkerAndPayload()
    {
        byte[] buffer = new byte[200];
        var header = new RtpHeaderWriter(buffer, 97, 7, 90_000, 0x2222_2222, marker: true);
        header.AddExtension(4, "1"u8);
        header.AddExtension(11, "h"u8);
        int at = header.Finish();
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(at), 65535);
        buffer.AsSpan(at + 2, 10).Fill(0xAB);
        Assert.That(RtpPacket.TryParse(buffer.AsSpan(0, at + 12), out var rtx), Is.True);

        Assert.That(RtxPacket.TryRestore(rtx, 96, 0x1111_1111, out var original), Is.True);
        var restored = (original.Packet.Length, (int)original.PayloadType, original.Marker, original.SequenceNumber, original.Timestamp, original.Ssrc,
            Mid: original.TryGetExtension(4, out var mid) ? mid.ToArray() : null, Payload: original.Payload.ToArray());

        Assert.Multiple(() =>
        {
            Assert.That(restored.Length, Is.EqualTo(at + 10));
            Assert.That(restored.Item2, Is.EqualTo(96));
            Assert.That(restored.Marker, Is.True);
            Assert.That(restored.SequenceNumber, Is.EqualTo(65535));
            Assert.That(restored.Timestamp, Is.EqualTo(90_000));
            Assert.That(restored.Ssrc, Is.EqualTo(0x1111_1111));
            Assert.That(restored.Mid, Is.EqualTo("1"u8.ToArray()), "header extensions kept");
            Assert.That(restored.Payload, Is.EqualTo(Enumerable.Repeat((byte)0xAB, 10)));
        });
    }

    [Test]
    public void PaddingOnly_OrOneByte_IsNotARetransmission()
    {
        byte[] buffer = new byte[64];
        int at = new RtpHeaderWriter(buffer, 97, 7, 0, 0x2222_2222).Finish();
        buffer[0] |= 0x20;
        buffer[at + 3] = 4; // four bytes of padding, no payload
        Assert.That(RtpPacket.TryParse(buffer.AsSpan(0, at + 4), out var padding), Is.True);
        Assert.That(RtpPacket.TryParse(buffer.AsSpan(0, at + 1), out _), Is.False, "one byte with the padding bit is malformed already");
        buffer[0] &= 0xDF;
        Assert.That(RtpPacket.TryParse(buffer.AsSpan(0, at + 1), out var oneByte), Is.True);

        Assert.That(RtxPacket.TryRestore(padding, 96, 1, out _), Is.False);
        Assert.That(RtxPacket.TryRestore(oneByte, 96, 1, out _), Is.False);
    }
}
