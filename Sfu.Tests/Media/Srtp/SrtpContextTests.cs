using System.Buffers.Binary;
using Sfu.Media.Srtp;
using static Sfu.Tests.Media.Srtp.SrtpTestPackets;

namespace Sfu.Tests.Media.Srtp;

[TestFixture(SrtpProfile.Aes128CmHmacSha1_80)]
[TestFixture(SrtpProfile.Aes128CmHmacSha1_32)]
[TestFixture(SrtpProfile.AeadAes128Gcm)]
public class SrtpContextTests(SrtpProfile profile)
{
    private const uint Ssrc = 0x11223344;

    private readonly Random _random = new(1234);
    private SrtpMasterKeyMaterial _key = null!;
    private SrtpContext _sender = null!;
    private SrtpContext _receiver = null!;

    [SetUp]
    public void SetUp()
    {
        _key = RandomKey(_random, profile);
        _sender = _key.CreateContext();
        _receiver = _key.CreateContext();
    }

    [TearDown]
    public void TearDown()
    {
        _sender.Dispose();
        _receiver.Dispose();
    }

    [TestCase(0, 0, -1)]
    [TestCase(1, 0, -1)]
    [TestCase(15, 0, -1)]
    [TestCase(160, 2, -1)]
    [TestCase(1200, 0, 3)]
    [TestCase(1187, 15, 0)]
    public void Protect_ThenUnprotect_RestoresThePacket(int payloadLength, int csrcs, int extensionWords)
    {
        byte[] plain = MakeRtp(_random, Ssrc, 1000, payloadLength, csrcs, extensionWords);
        byte[] buffer = WithRoom(plain);

        Assert.That(_sender.Protect(buffer, plain.Length, out int protectedLength), Is.EqualTo(SrtpStatus.Ok));
        Assert.That(protectedLength, Is.EqualTo(plain.Length + profile.RtpTagLength()));
        int headerLength = plain.Length - payloadLength;
        if (payloadLength >= 8)
        {
            Assert.That(buffer.AsSpan(headerLength, payloadLength).ToArray(), Is.Not.EqualTo(plain.AsSpan(headerLength).ToArray()), "payload is encrypted");
        }

        Assert.That(buffer.AsSpan(0, headerLength).ToArray(), Is.EqualTo(plain.AsSpan(0, headerLength).ToArray()), "header stays clear");

        Assert.That(_receiver.Unprotect(buffer, protectedLength, out int plainLength), Is.EqualTo(SrtpStatus.Ok));
        Assert.That(buffer.AsSpan(0, plainLength).ToArray(), Is.EqualTo(plain));
    }

    [Test]
    public void ProtectRtcp_ThenUnprotectRtcp_RestoresThePacket()
    {
        for (int words = 0; words < 40; words += 7)
        {
            byte[] plain = MakeRtcp(_random, Ssrc, words);
            byte[] buffer = WithRoom(plain);

            Assert.That(_sender.ProtectRtcp(buffer, plain.Length, out int protectedLength), Is.EqualTo(SrtpStatus.Ok));
            Assert.That(protectedLength, Is.EqualTo(plain.Length + profile.RtcpOverhead()));
            Assert.That(_receiver.UnprotectRtcp(buffer, protectedLength, out int plainLength), Is.EqualTo(SrtpStatus.Ok));
            Assert.That(buffer.AsSpan(0, plainLength).ToArray(), Is.EqualTo(plain));
        }
    }

    [Test]
    public void Unprotect_AnyFlippedBit_IsAuthFailed()
    {
        byte[] plain = MakeRtp(_random, Ssrc, 7, 100);
        byte[] buffer = WithRoom(plain);
        _sender.Protect(buffer, plain.Length, out int length);
        byte[] original = buffer.AsSpan(0, length).ToArray();

        // Header bits that change the SSRC or sequence number would select other state, so flip
        // payload and tag bytes plus the marker/payload-type byte of the header.
        foreach (int position in new[] { 1, 12, 50, length - 1 - profile.RtpTagLength(), length - 1 })
        {
            byte[] tampered = WithRoom(original);
            tampered[position] ^= 0x04;

            Assert.That(_receiver.Unprotect(tampered, length, out _), Is.EqualTo(SrtpStatus.AuthFailed), $"byte {position}");
            Assert.That(tampered.AsSpan(0, length).ToArray()[position], Is.EqualTo((byte)(original[position] ^ 0x04)), "a rejected packet is not decrypted");
        }

        Assert.That(_receiver.Unprotect(buffer, length, out _), Is.EqualTo(SrtpStatus.Ok), "the genuine packet still passes after the forgeries");
    }

    [Test]
    public void UnprotectRtcp_FlippedBit_IsAuthFailed()
    {
        byte[] plain = MakeRtcp(_random, Ssrc, 6);
        byte[] buffer = WithRoom(plain);
        _sender.ProtectRtcp(buffer, plain.Length, out int length);

        foreach (int position in new[] { 1, 9, 20, length - 1 })
        {
            byte[] tampered = (byte[])buffer.Clone();
            tampered[position] ^= 0x01;
            Assert.That(_receiver.UnprotectRtcp(tampered, length, out _), Is.EqualTo(SrtpStatus.AuthFailed), $"byte {position}");
        }
    }

    [Test]
    public void Unprotect_WithAnotherKey_IsAuthFailed()
    {
        using SrtpContext stranger = RandomKey(_random, profile).CreateContext();
        byte[] plain = MakeRtp(_random, Ssrc, 7, 100);
        byte[] buffer = WithRoom(plain);
        _sender.Protect(buffer, plain.Length, out int length);

        Assert.That(stranger.Unprotect(buffer, length, out _), Is.EqualTo(SrtpStatus.AuthFailed));
    }

    [Test]
    public void Unprotect_SamePacketTwice_IsReplayDuplicate()
    {
        byte[] plain = MakeRtp(_random, Ssrc, 500, 80);
        byte[] buffer = WithRoom(plain);
        _sender.Protect(buffer, plain.Length, out int length);
        byte[] copy = (byte[])buffer.Clone();

        Assert.That(_receiver.Unprotect(buffer, length, out _), Is.EqualTo(SrtpStatus.Ok));
        Assert.That(_receiver.Unprotect(copy, length, out _), Is.EqualTo(SrtpStatus.ReplayDuplicate));
    }

    [Test]
    public void UnprotectRtcp_SamePacketTwice_IsReplayDuplicate()
    {
        byte[] plain = MakeRtcp(_random, Ssrc, 6);
        byte[] buffer = WithRoom(plain);
        _sender.ProtectRtcp(buffer, plain.Length, out int length);
        byte[] copy = (byte[])buffer.Clone();

        Assert.That(_receiver.UnprotectRtcp(buffer, length, out _), Is.EqualTo(SrtpStatus.Ok));
        Assert.That(_receiver.UnprotectRtcp(copy, length, out _), Is.EqualTo(SrtpStatus.ReplayDuplicate));
    }

    [Test]
    public void Unprotect_ReorderedWithinWindow_IsAcceptedButTooOldIsReplayOld()
    {
        byte[][] packets = Enumerable.Range(0, 200).Select(i => Protected((ushort)(3000 + i))).ToArray();

        Assert.That(Open(packets[150]), Is.EqualTo(SrtpStatus.Ok));
        Assert.That(Open(packets[100]), Is.EqualTo(SrtpStatus.Ok), "50 behind, inside the window");
        Assert.That(Open(packets[199]), Is.EqualTo(SrtpStatus.Ok));
        Assert.That(Open(packets[199 - ReplayWindow.Size + 1]), Is.EqualTo(SrtpStatus.Ok), "the oldest index the window holds");
        Assert.That(Open(packets[199 - ReplayWindow.Size]), Is.EqualTo(SrtpStatus.ReplayOld));
    }

    [Test]
    public void SequenceWrap_AdvancesTheRocOnBothSides()
    {
        // Sender and receiver must both move to ROC 1 at 65535 -> 0, or authentication (and, for
        // GCM, the nonce) would disagree from the first packet after the wrap.
        ushort[] sequence = [65533, 65534, 65535, 0, 1, 2];
        foreach (ushort seq in sequence)
        {
            Assert.That(Open(Protected(seq)), Is.EqualTo(SrtpStatus.Ok), $"seq {seq}");
        }
    }

    [Test]
    public void SequenceWrap_LatePacketFromBeforeTheWrap_UsesThePreviousRoc()
    {
        byte[] beforeWrap = Protected(65534);
        byte[] afterWrap1 = Protected(65535);
        byte[] afterWrap2 = Protected(0);
        byte[] afterWrap3 = Protected(1);

        Assert.That(Open(afterWrap1), Is.EqualTo(SrtpStatus.Ok));
        Assert.That(Open(afterWrap2), Is.EqualTo(SrtpStatus.Ok));
        Assert.That(Open(afterWrap3), Is.EqualTo(SrtpStatus.Ok));
        Assert.That(Open(beforeWrap), Is.EqualTo(SrtpStatus.Ok), "65534 arrives after 1: ROC 0, not 1");
        Assert.That(Open(Protected(2)), Is.EqualTo(SrtpStatus.Ok));
    }

    [Test]
    public void Protect_RetransmissionFromBeforeTheWrap_UsesThePreviousRoc()
    {
        Protected(65535);
        Protected(0);
        byte[] resent = Protected(65535); // sent again after the wrap: still index 65535

        Assert.That(Open(resent), Is.EqualTo(SrtpStatus.Ok));
    }

    [Test]
    public void Unprotect_KeepsIndependentStatePerSsrc()
    {
        byte[] a = Protected(100, ssrc: 1);
        byte[] b = Protected(100, ssrc: 2);

        Assert.That(Open(a), Is.EqualTo(SrtpStatus.Ok));
        Assert.That(Open(b), Is.EqualTo(SrtpStatus.Ok), "same sequence number, other SSRC: no replay");
    }

    [Test]
    public void Unprotect_ForgedPacketOfUnknownSsrc_LeavesNoState()
    {
        byte[] forged = WithRoom(MakeRtp(_random, 0xDEAD, 60000, 50));
        int length = 12 + 50 + profile.RtpTagLength();
        Assert.That(_receiver.Unprotect(forged, length, out _), Is.EqualTo(SrtpStatus.AuthFailed));

        // Had the forgery set the highest index to 60000, the genuine seq 5 would be guessed at ROC 1.
        Assert.That(Open(Protected(5, ssrc: 0xDEAD)), Is.EqualTo(SrtpStatus.Ok));
    }

    [Test]
    public void Unprotect_TruncatedOrNotVersion2_IsMalformed()
    {
        byte[] buffer = new byte[64];
        buffer[0] = 0x80;
        Assert.That(_receiver.Unprotect(buffer, 12 + profile.RtpTagLength() - 1, out _), Is.EqualTo(SrtpStatus.Malformed));
        Assert.That(_receiver.UnprotectRtcp(buffer, 8 + profile.RtcpOverhead() - 1, out _), Is.EqualTo(SrtpStatus.Malformed));

        buffer[0] = 0x40;
        Assert.That(_receiver.Unprotect(buffer, 40, out _), Is.EqualTo(SrtpStatus.Malformed));

        buffer[0] = 0x90; // extension header claims 255 words
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(14), 255);
        Assert.That(_receiver.Unprotect(buffer, 40, out _), Is.EqualTo(SrtpStatus.Malformed));
        Assert.That(_sender.Protect(buffer, 40, out _), Is.EqualTo(SrtpStatus.Malformed));
    }

    [Test]
    public void Protect_WithoutRoomForTheTag_IsBufferTooSmall()
    {
        byte[] plain = MakeRtp(_random, Ssrc, 1, 20);

        Assert.That(_sender.Protect(plain, plain.Length, out _), Is.EqualTo(SrtpStatus.BufferTooSmall));
        Assert.That(_sender.ProtectRtcp(MakeRtcp(_random, Ssrc, 2), 16, out _), Is.EqualTo(SrtpStatus.BufferTooSmall));
    }

    [Test]
    public void Unprotect_NewSsrcsBeyondTheLimit_AreTooManyStreams()
    {
        using var sender = new SrtpContext(new SrtpMasterKey(profile, _key.Key, _key.Salt));
        using var receiver = new SrtpContext(new SrtpMasterKey(profile, _key.Key, _key.Salt), maxStreams: 2);
        SrtpStatus Send(uint ssrc)
        {
            byte[] buffer = WithRoom(MakeRtp(_random, ssrc, 1, 10));
            sender.Protect(buffer, 22, out int length);
            return receiver.Unprotect(buffer, length, out _);
        }

        Assert.That(Send(1), Is.EqualTo(SrtpStatus.Ok));
        Assert.That(Send(2), Is.EqualTo(SrtpStatus.Ok));
        Assert.That(Send(3), Is.EqualTo(SrtpStatus.TooManyStreams));
    }

    private byte[] Protected(ushort sequence, uint ssrc = Ssrc)
    {
        byte[] plain = MakeRtp(_random, ssrc, sequence, 40);
        byte[] buffer = WithRoom(plain);
        Assert.That(_sender.Protect(buffer, plain.Length, out int length), Is.EqualTo(SrtpStatus.Ok));
        return buffer.AsSpan(0, length).ToArray();
    }

    private SrtpStatus Open(byte[] packet) => _receiver.Unprotect((byte[])packet.Clone(), packet.Length, out _);
}
