using System.Security.Cryptography;
using Sfu.Media.Srtp;

namespace Sfu.Tests.Media.Srtp;

[TestFixture(true)]
[TestFixture(false)]
public class GcmEngineTests(bool intrinsics)
{
    private readonly Random _random = new(99);

    [Test]
    public void Engine_IsTheOneAskedFor()
    {
        using GcmEngine engine = GcmEngine.Create(new byte[16], intrinsics);
        Assert.That(engine, intrinsics && GcmHardware.IsSupported ? Is.InstanceOf<GcmHardware>() : Is.InstanceOf<GcmPlatform>());
    }

    [Test]
    public void Seal_MatchesAesGcm_AndOpenRestoresThePlaintext()
    {
        byte[] key = Bytes(16);
        using GcmEngine engine = GcmEngine.Create(key, intrinsics);
        using var reference = new AesGcm(key, 16);

        foreach (int length in new[] { 0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 1188, 1500, 4000 })
        {
            foreach (int aadLength in new[] { 0, 8, 12, 13, 16, 40, 100 })
            {
                byte[] nonce = Bytes(12);
                byte[] aad = Bytes(aadLength);
                byte[] plain = Bytes(length);
                byte[] expected = new byte[length];
                byte[] expectedTag = new byte[16];
                reference.Encrypt(nonce, plain, expected, expectedTag, aad);

                byte[] data = (byte[])plain.Clone();
                byte[] tag = new byte[16];
                engine.Seal(nonce, data, aad, tag);

                Assert.That(data, Is.EqualTo(expected), $"ciphertext, {length} bytes, aad {aadLength}");
                Assert.That(tag, Is.EqualTo(expectedTag), $"tag, {length} bytes, aad {aadLength}");
                Assert.That(engine.Open(nonce, data, aad, tag), Is.True);
                Assert.That(data, Is.EqualTo(plain));
            }
        }
    }

    [Test]
    public void Open_WithAWrongBitAnywhere_ReturnsFalseAndLeavesTheData()
    {
        byte[] key = Bytes(16);
        using GcmEngine engine = GcmEngine.Create(key, intrinsics);
        byte[] nonce = Bytes(12);
        byte[] aad = Bytes(12);
        byte[] data = Bytes(300);
        byte[] tag = new byte[16];
        engine.Seal(nonce, data, aad, tag);

        foreach (Action<byte[], byte[], byte[]> tamper in new Action<byte[], byte[], byte[]>[]
        {
            (d, a, t) => d[299] ^= 1,
            (d, a, t) => a[0] ^= 0x80,
            (d, a, t) => t[15] ^= 2,
        })
        {
            byte[] d = (byte[])data.Clone(), a = (byte[])aad.Clone(), t = (byte[])tag.Clone();
            tamper(d, a, t);
            byte[] before = (byte[])d.Clone();

            Assert.That(engine.Open(nonce, d, a, t), Is.False);
            Assert.That(d, Is.EqualTo(before), "a rejected packet is left as it came");
        }
    }

    private byte[] Bytes(int length)
    {
        byte[] bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }
}
