using System.Buffers.Binary;
using Sfu.Media.Sctp;

namespace Sfu.Tests.Media.Sctp;

[TestFixture]
public sealed class SctpAssociationTests
{
    private const uint BinaryPpid = 53;

    [Test]
    public void Connect_FourWayHandshakeEstablishesBothEnds()
    {
        var link = new SctpTestLink();

        link.Connect();

        Assert.That(ChunkTypes(link.A.Sent), Is.EqualTo(new[] { SctpChunkType.Init, SctpChunkType.CookieEcho }));
        Assert.That(ChunkTypes(link.B.Sent), Is.EqualTo(new[] { SctpChunkType.InitAck, SctpChunkType.CookieAck }));
    }

    [Test]
    public void Connect_InitsThatCrossEstablishOneAssociation()
    {
        var link = new SctpTestLink();

        link.A.Association.Connect();
        link.B.Association.Connect();
        link.RunUntil(() => Established(link), TimeSpan.FromSeconds(5));
        link.A.Association.Send(1, BinaryPpid, new byte[] { 1 });
        link.B.Association.Send(2, BinaryPpid, new byte[] { 2 });
        link.RunUntil(() => link.A.Received.Count == 1 && link.B.Received.Count == 1, TimeSpan.FromSeconds(5));

        Assert.That(link.B.Received[0].Payload, Is.EqualTo(new byte[] { 1 }));
        Assert.That(link.A.Received[0].Payload, Is.EqualTo(new byte[] { 2 }));
    }

    [TestCase(SctpChunkType.Init)]
    [TestCase(SctpChunkType.InitAck)]
    [TestCase(SctpChunkType.CookieEcho)]
    [TestCase(SctpChunkType.CookieAck)]
    public void Connect_RetransmitsWhenAHandshakePacketIsLost(SctpChunkType lost)
    {
        var link = new SctpTestLink();
        bool dropped = false;
        link.Drop = (_, packet) => !dropped && FirstChunk(packet) == lost && (dropped = true);

        link.Connect();

        Assert.That(dropped, Is.True);
        Assert.That(link.Clock.GetUtcNow() - new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)), "recovered by the 1 s initial RTO");
    }

    [Test]
    public void CookieEcho_TamperedOrExpiredCookieIsRefused()
    {
        var link = new SctpTestLink();
        byte[]? echo = null;
        link.Drop = (_, packet) => FirstChunk(packet) == SctpChunkType.CookieEcho && (echo ??= packet) is not null;
        link.A.Association.Connect();
        link.RunFor(TimeSpan.FromMilliseconds(100));
        Assert.That(echo, Is.Not.Null);

        byte[] tampered = (byte[])echo!.Clone();
        tampered[20] ^= 0x01; // inside the cookie's tag fields
        SctpChecksumOf(tampered);
        link.B.Association.HandlePacket(tampered);
        Assert.That(link.B.Association.Counters.Drops(SctpDropReason.BadCookie), Is.EqualTo(1));

        link.Clock.Advance(TimeSpan.FromSeconds(61));
        link.B.Association.HandlePacket(echo);
        Assert.That(link.B.Association.Counters.Drops(SctpDropReason.BadCookie), Is.EqualTo(2));
        Assert.That(link.B.Association.State, Is.EqualTo(SctpAssociationState.Listening));
    }

    [Test]
    public void HandlePacket_BadChecksumOrForeignTagIsCountedAndIgnored()
    {
        var link = new SctpTestLink();
        link.Connect();
        byte[] packet = link.A.Sent[^1];
        byte[] corrupt = (byte[])packet.Clone();
        corrupt[^1] ^= 0xFF;
        byte[] foreign = (byte[])packet.Clone();
        foreign[4] ^= 0xFF;
        SctpChecksumOf(foreign);

        link.B.Association.HandlePacket(corrupt);
        link.B.Association.HandlePacket(foreign);
        link.B.Association.HandlePacket([1, 2, 3]);

        Assert.That(link.B.Association.Counters.Drops(SctpDropReason.Checksum), Is.EqualTo(2));
        Assert.That(link.B.Association.Counters.Drops(SctpDropReason.VerificationTag), Is.EqualTo(1));
        Assert.That(link.B.Association.State, Is.EqualTo(SctpAssociationState.Established));
    }

    [Test]
    public void Send_LargeMessageIsFragmentedAndReassembled()
    {
        var link = new SctpTestLink();
        link.Connect();
        byte[] message = Pattern(200_000, seed: 3);
        int packetsBefore = link.A.Sent.Count;

        Assert.That(link.A.Association.Send(7, BinaryPpid, message), Is.EqualTo(SctpSendStatus.Queued));
        link.RunUntil(() => link.B.Received.Count == 1, TimeSpan.FromSeconds(10));

        Assert.That(link.B.Received[0].Stream, Is.EqualTo(7));
        Assert.That(link.B.Received[0].Payload, Is.EqualTo(message));
        Assert.That(link.A.Sent.Count - packetsBefore, Is.GreaterThanOrEqualTo(200_000 / 1100));
        Assert.That(link.A.Sent.Max(p => p.Length), Is.LessThanOrEqualTo(1100));
    }

    [Test]
    public void Send_OrderedReliableSurvivesLossAndReordering()
    {
        var link = new SctpTestLink(seed: 11) { LossRate = 0.15, Jitter = TimeSpan.FromMilliseconds(30) };
        link.Connect();
        var random = new Random(5);
        var sent = new List<byte[]>();
        for (int i = 0; i < 2000; i++)
        {
            byte[] message = Pattern(random.Next(1, 3000), seed: i);
            sent.Add(message);
            while (link.A.Association.Send(1, BinaryPpid, message) == SctpSendStatus.BufferFull)
            {
                link.RunFor(TimeSpan.FromMilliseconds(50));
            }
        }

        link.RunUntil(() => link.B.Received.Count == sent.Count, TimeSpan.FromMinutes(5));

        Assert.That(link.B.Received.Select(r => r.Payload), Is.EqualTo(sent), "every message once, in order");
        Assert.That(link.A.Association.Counters.Retransmissions, Is.GreaterThan(0));
        link.RunUntil(() => link.A.Association.BufferedAmount == 0, TimeSpan.FromSeconds(30));
    }

    [Test]
    public void Send_UnorderedReliableDeliversEverythingOnce()
    {
        var link = new SctpTestLink(seed: 4) { LossRate = 0.1, Jitter = TimeSpan.FromMilliseconds(40) };
        link.Connect();
        for (int i = 0; i < 500; i++)
        {
            link.A.Association.Send(3, BinaryPpid, BitConverter.GetBytes(i), new SctpSendOptions(Unordered: true));
        }

        link.RunUntil(() => link.B.Received.Count == 500, TimeSpan.FromMinutes(1));

        var numbers = link.B.Received.Select(r => BitConverter.ToInt32(r.Payload)).ToList();
        Assert.That(numbers.Order(), Is.EqualTo(Enumerable.Range(0, 500)));
        Assert.That(numbers, Is.Not.Ordered, "reordered on the way and handed over as they came");
    }

    [Test]
    public void Send_UnreliableMessagesLostAreSkippedWithForwardTsn()
    {
        var link = new SctpTestLink(seed: 9) { LossRate = 0.3 };
        link.Connect();
        var unreliable = new SctpSendOptions(Unordered: true, MaxRetransmits: 0);
        for (int i = 0; i < 300; i++)
        {
            link.A.Association.Send(5, BinaryPpid, BitConverter.GetBytes(i), unreliable);
            link.RunFor(TimeSpan.FromMilliseconds(5));
        }

        link.RunFor(TimeSpan.FromSeconds(10));
        link.LossRate = 0;
        link.A.Association.Send(1, BinaryPpid, new byte[] { 42 });
        link.RunUntil(() => link.B.Received.Any(r => r.Stream == 1) && link.A.Association.BufferedAmount == 0, TimeSpan.FromSeconds(10));

        int delivered = link.B.Received.Count(r => r.Stream == 5);
        Assert.That(delivered, Is.InRange(100, 299), "some lost for good, most through");
        Assert.That(link.A.Association.Counters.Drops(SctpDropReason.Abandoned), Is.EqualTo(300 - delivered));
        Assert.That(link.A.Sent.Any(p => ChunkTypesOf(p).Contains(SctpChunkType.ForwardTsn)), Is.True);
        Assert.That(link.A.Association.BufferedAmount, Is.Zero);
    }

    [Test]
    public void Send_OrderedPartiallyReliableSkipsAbandonedSequenceNumbers()
    {
        var link = new SctpTestLink();
        link.Connect();
        var limited = new SctpSendOptions(MaxRetransmits: 0);
        int count = 0;
        link.Drop = (from, packet) => from == link.A && ChunkTypesOf(packet).Contains(SctpChunkType.Data) && ++count == 2;

        for (int i = 0; i < 3; i++)
        {
            link.A.Association.Send(2, BinaryPpid, new[] { (byte)i }, limited);
            link.RunFor(TimeSpan.FromMilliseconds(50));
        }

        link.RunUntil(() => link.B.Received.Count == 2 && link.A.Association.BufferedAmount == 0, TimeSpan.FromSeconds(10));

        Assert.That(link.B.Received.Select(r => r.Payload[0]), Is.EqualTo(new byte[] { 0, 2 }), "the third waited for the lost second, then the FORWARD-TSN released it");
    }

    [Test]
    public void Send_MessagePastItsLifetimeIsNeverDelivered()
    {
        var link = new SctpTestLink();
        link.Connect();
        link.Down = true;
        link.A.Association.Send(4, BinaryPpid, new byte[] { 1 }, new SctpSendOptions(Lifetime: TimeSpan.FromMilliseconds(300)));
        link.RunFor(TimeSpan.FromSeconds(3));
        link.Down = false;
        link.A.Association.Send(4, BinaryPpid, new byte[] { 2 });

        link.RunUntil(() => link.B.Received.Count == 1 && link.A.Association.BufferedAmount == 0, TimeSpan.FromSeconds(30));
        link.RunFor(TimeSpan.FromSeconds(2));

        Assert.That(link.B.Received.Select(r => r.Payload[0]), Is.EqualTo(new byte[] { 2 }));
        Assert.That(link.A.Association.Counters.Drops(SctpDropReason.Abandoned), Is.EqualTo(1));
    }

    [Test]
    public void ResetOutgoingStreams_PeerSeesTheResetAndTheStreamStartsAgain()
    {
        var link = new SctpTestLink();
        link.Connect();
        link.A.Association.Send(6, BinaryPpid, new byte[] { 1 });
        link.A.Association.Send(6, BinaryPpid, new byte[] { 2 });
        link.A.Association.ResetOutgoingStreams([6]);
        bool lostOnce = false;
        link.Drop = (_, packet) => !lostOnce && ChunkTypesOf(packet).Contains(SctpChunkType.ReConfig) && (lostOnce = true);

        link.RunUntil(() => link.B.ResetStreams.Count == 1, TimeSpan.FromSeconds(10));
        link.RunFor(TimeSpan.FromSeconds(2));
        link.A.Association.Send(6, BinaryPpid, new byte[] { 3 });
        link.RunUntil(() => link.B.Received.Count == 3, TimeSpan.FromSeconds(10));

        Assert.That(lostOnce, Is.True);
        Assert.That(link.B.ResetStreams, Is.EqualTo(new ushort[] { 6 }));
        Assert.That(link.B.Received.Select(r => r.Payload[0]), Is.EqualTo(new byte[] { 1, 2, 3 }), "sent before the reset, then SSN 0 again");
    }

    [Test]
    public void Send_SendBufferIsBoundedInBytes()
    {
        var options = new SctpAssociationOptions { MaxSendBufferBytes = 64 * 1024 };
        var link = new SctpTestLink(optionsA: options);
        link.Connect();
        link.Down = true;
        int queued = 0;
        while (link.A.Association.Send(1, BinaryPpid, new byte[1000]) == SctpSendStatus.Queued)
        {
            queued++;
        }

        Assert.That(queued, Is.EqualTo(65));
        Assert.That(link.A.Association.BufferedAmount, Is.LessThanOrEqualTo(options.MaxSendBufferBytes));
        Assert.That(link.A.Association.Counters.Drops(SctpDropReason.SendBufferFull), Is.EqualTo(1));

        link.Down = false;
        link.RunUntil(() => link.B.Received.Count == queued && link.A.Association.BufferedAmount == 0, TimeSpan.FromMinutes(1));
    }

    [Test]
    public void Receive_ReceiveBufferBoundHoldsWhenTheFirstChunkIsMissing()
    {
        var options = new SctpAssociationOptions { MaxReceiveBufferBytes = 16 * 1024, MaxMessageSize = 8 * 1024 };
        var link = new SctpTestLink(optionsB: options);
        link.Connect();
        bool lost = false;
        link.Drop = (from, packet) => from == link.A && !lost && ChunkTypesOf(packet).Contains(SctpChunkType.Data) && (lost = true);
        for (int i = 0; i < 100; i++)
        {
            link.A.Association.Send(1, BinaryPpid, Pattern(1000, i));
        }

        link.RunUntil(() => link.B.Received.Count == 100, TimeSpan.FromMinutes(1));

        Assert.That(link.B.Received.Select(r => r.Payload), Is.EqualTo(Enumerable.Range(0, 100).Select(i => Pattern(1000, i))));
        Assert.That(link.B.Sent.Select(ReceiveWindowOf).Where(w => w is not null).Min(), Is.LessThan(16 * 1024), "the window shrank while the buffer held data");
    }

    [Test]
    public void HandleTimeout_DeadPathAbortsAfterTheRetransmissionLimit()
    {
        var link = new SctpTestLink();
        link.Connect();
        link.Down = true;
        link.A.Association.Send(1, BinaryPpid, new byte[] { 1 });

        link.RunUntil(() => link.A.Association.State == SctpAssociationState.Closed, TimeSpan.FromMinutes(3));

        Assert.That(link.A.ClosedReason, Is.EqualTo("retransmission limit reached"));
    }

    [Test]
    public void Heartbeat_IsAnsweredWithItsInformation()
    {
        var link = new SctpTestLink();
        link.Connect();
        byte[] heartbeat = Packet(link.A.Sent[^1], SctpChunkType.Heartbeat, [0, 1, 0, 8, 9, 8, 7, 6]);

        link.B.Association.HandlePacket(heartbeat);

        byte[] answer = link.B.Sent[^1];
        Assert.That(FirstChunk(answer), Is.EqualTo(SctpChunkType.HeartbeatAck));
        Assert.That(answer.AsSpan(16, 8).ToArray(), Is.EqualTo(new byte[] { 0, 1, 0, 8, 9, 8, 7, 6 }));
    }

    private static bool Established(SctpTestLink link) =>
        link.A.Association.State == SctpAssociationState.Established && link.B.Association.State == SctpAssociationState.Established;

    private static byte[] Pattern(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static SctpChunkType FirstChunk(byte[] packet) => (SctpChunkType)packet[12];

    private static IEnumerable<SctpChunkType> ChunkTypes(IEnumerable<byte[]> packets) => packets.Select(FirstChunk);

    private static List<SctpChunkType> ChunkTypesOf(byte[] packet)
    {
        var types = new List<SctpChunkType>();
        Assert.That(SctpPacketReader.TryOpen(packet, out SctpPacketReader reader), Is.True);
        while (reader.TryReadChunk(out SctpChunk chunk))
        {
            types.Add((SctpChunkType)chunk.Type);
        }

        return types;
    }

    private static uint? ReceiveWindowOf(byte[] packet)
    {
        SctpPacketReader.TryOpen(packet, out SctpPacketReader reader);
        while (reader.TryReadChunk(out SctpChunk chunk))
        {
            if (chunk.Type == (byte)SctpChunkType.Sack)
            {
                return BinaryPrimitives.ReadUInt32BigEndian(chunk.Value[4..]);
            }
        }

        return null;
    }

    /// <summary>A packet with the header (ports, tag) of <paramref name="template"/> and one chunk.</summary>
    private static byte[] Packet(byte[] template, SctpChunkType type, byte[] value)
    {
        byte[] packet = new byte[12 + 4 + ((value.Length + 3) & ~3)];
        template.AsSpan(0, 8).CopyTo(packet);
        packet[12] = (byte)type;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(14), (ushort)(4 + value.Length));
        value.CopyTo(packet, 16);
        SctpChecksumOf(packet);
        return packet;
    }

    private static void SctpChecksumOf(byte[] packet) => SctpChecksum.Write(packet);
}
