using System.Security.Cryptography;
using Sfu.Media.Srtp;
using static Sfu.Tests.Media.Srtp.SrtpTestPackets;

namespace Sfu.Tests.Media.Srtp;

public class SrtpKeyingMaterialTests
{
    [TestCase(SrtpProfile.Aes128CmHmacSha1_80, 60)]
    [TestCase(SrtpProfile.Aes128CmHmacSha1_32, 60)]
    [TestCase(SrtpProfile.AeadAes128Gcm, 56)]
    public void Length_IsTwoKeysAndTwoSalts(SrtpProfile profile, int expected) =>
        Assert.That(SrtpKeyingMaterial.Length(profile), Is.EqualTo(expected));

    [Test]
    public void Split_ServerWritesWithServerKeysAndReadsWithClientKeys()
    {
        byte[] material = Enumerable.Range(0, 60).Select(i => (byte)i).ToArray();

        SrtpKeyPair server = SrtpKeyingMaterial.Split(SrtpProfile.Aes128CmHmacSha1_80, material, SrtpRole.Server);
        SrtpKeyPair client = SrtpKeyingMaterial.Split(SrtpProfile.Aes128CmHmacSha1_80, material, SrtpRole.Client);

        Assert.That(server.Local.Key.ToArray(), Is.EqualTo(material[16..32]), "server_write_key");
        Assert.That(server.Local.Salt.ToArray(), Is.EqualTo(material[46..60]), "server_write_salt");
        Assert.That(server.Remote.Key.ToArray(), Is.EqualTo(material[0..16]), "client_write_key");
        Assert.That(server.Remote.Salt.ToArray(), Is.EqualTo(material[32..46]), "client_write_salt");
        Assert.That(client.Local.Key.ToArray(), Is.EqualTo(server.Remote.Key.ToArray()));
        Assert.That(client.Remote.Salt.ToArray(), Is.EqualTo(server.Local.Salt.ToArray()));
    }

    [Test]
    public void Split_GcmSaltsAre12Bytes()
    {
        byte[] material = Enumerable.Range(0, 56).Select(i => (byte)i).ToArray();

        SrtpKeyPair pair = SrtpKeyingMaterial.Split(SrtpProfile.AeadAes128Gcm, material, SrtpRole.Server);

        Assert.That(pair.Local.Salt.ToArray(), Is.EqualTo(material[44..56]));
        Assert.That(pair.Remote.Salt.ToArray(), Is.EqualTo(material[32..44]));
    }

    [Test]
    public void Split_WrongLength_Throws() =>
        Assert.That(() => SrtpKeyingMaterial.Split(SrtpProfile.AeadAes128Gcm, new byte[60], SrtpRole.Client), Throws.ArgumentException);

    [Test]
    public void SplitKeys_ProtectOnOneSideAndUnprotectOnTheOther()
    {
        byte[] material = RandomNumberGenerator.GetBytes(SrtpKeyingMaterial.Length(SrtpProfile.AeadAes128Gcm));
        SrtpKeyPair server = SrtpKeyingMaterial.Split(SrtpProfile.AeadAes128Gcm, material, SrtpRole.Server);
        SrtpKeyPair client = SrtpKeyingMaterial.Split(SrtpProfile.AeadAes128Gcm, material, SrtpRole.Client);
        using var serverSend = new SrtpContext(server.Local);
        using var clientReceive = new SrtpContext(client.Remote);
        byte[] buffer = WithRoom(MakeRtp(new Random(5), 9, 9, 30));

        serverSend.Protect(buffer, 42, out int length);

        Assert.That(clientReceive.Unprotect(buffer, length, out _), Is.EqualTo(SrtpStatus.Ok));
    }
}

public class SrtpPacketIndexTests
{
    [TestCase(0x0_0005UL, (ushort)6, 0x0_0006UL)]
    [TestCase(0x0_FFFFUL, (ushort)0, 0x1_0000UL)]
    [TestCase(0x1_0002UL, (ushort)0xFFFE, 0x0_FFFEUL)]
    [TestCase(0x2_8000UL, (ushort)0x0001, 0x2_0001UL)]
    [TestCase(0x2_8001UL, (ushort)0x0000, 0x3_0000UL)]
    [TestCase(0x0_0005UL, (ushort)0xFFF0, 0x0_FFF0UL)]
    public void Estimate_PicksTheRocNearestTheHighestIndex(ulong highest, ushort sequence, ulong expected) =>
        Assert.That(SrtpPacketIndex.Estimate(highest, sequence), Is.EqualTo(expected));
}

public class ReplayWindowTests
{
    [Test]
    public void Window_TracksDuplicatesAndAge()
    {
        var window = new ReplayWindow();
        Assert.That(window.Check(1000), Is.EqualTo(SrtpStatus.Ok));
        window.Accept(1000);
        window.Accept(1003);

        Assert.That(window.Check(1000), Is.EqualTo(SrtpStatus.ReplayDuplicate));
        Assert.That(window.Check(1003), Is.EqualTo(SrtpStatus.ReplayDuplicate));
        Assert.That(window.Check(1001), Is.EqualTo(SrtpStatus.Ok));
        Assert.That(window.Check(1004), Is.EqualTo(SrtpStatus.Ok));
        Assert.That(window.Check(1003 - ReplayWindow.Size), Is.EqualTo(SrtpStatus.ReplayOld));

        window.Accept(1003 + 500);
        Assert.That(window.Check(1003 + 500), Is.EqualTo(SrtpStatus.ReplayDuplicate));
        Assert.That(window.Check(1003 + 499), Is.EqualTo(SrtpStatus.Ok), "a big jump forgets the old bits");
        Assert.That(window.Highest, Is.EqualTo(1503UL));
    }
}

public class AesCounterModeTests
{
    [Test]
    public void IntrinsicAndPlatformPaths_ProduceTheKeystreamOfAesEcbOverCounterBlocks()
    {
        var random = new Random(77);
        byte[] key = new byte[16];
        random.NextBytes(key);
        using var aes = System.Security.Cryptography.Aes.Create();
        aes.Key = key;
        using var fast = new AesCounterMode(key, allowIntrinsics: true);
        using var slow = new AesCounterMode(key, allowIntrinsics: false);
        Assert.That(slow.UsesIntrinsics, Is.False);

        foreach (int length in new[] { 0, 1, 15, 16, 17, 63, 64, 65, 100, 1200, 1500, 3000 })
        {
            byte[] counter = new byte[16];
            random.NextBytes(counter);
            counter[12] = 0xFF; // makes the 32-bit counter carry within the packet
            counter[13] = 0xFF;
            counter[14] = 0xFF;
            byte[] data = new byte[length];
            random.NextBytes(data);

            byte[] expected = Reference(aes, counter, data);
            byte[] viaFast = (byte[])data.Clone();
            byte[] viaSlow = (byte[])data.Clone();
            fast.Transform(counter, viaFast);
            slow.Transform(counter, viaSlow);

            Assert.That(viaFast, Is.EqualTo(expected), $"intrinsics, {length} bytes");
            Assert.That(viaSlow, Is.EqualTo(expected), $"fallback, {length} bytes");
        }
    }

    private static byte[] Reference(System.Security.Cryptography.Aes aes, byte[] counter, byte[] data)
    {
        int blocks = (data.Length + 15) / 16;
        byte[] input = new byte[blocks * 16];
        uint value = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(counter.AsSpan(12));
        for (int i = 0; i < blocks; i++)
        {
            counter.AsSpan(0, 12).CopyTo(input.AsSpan(i * 16));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(input.AsSpan(i * 16 + 12), unchecked(value + (uint)i));
        }

        byte[] keystream = aes.EncryptEcb(input, System.Security.Cryptography.PaddingMode.None);
        return data.Select((b, i) => (byte)(b ^ keystream[i])).ToArray();
    }
}
