using Sfu.Media.Rtp;

namespace Sfu.Tests.Media.Rtp;

public class RtpPacketCacheTests
{
    private static byte[] Packet(ushort seq, int length = 20)
    {
        byte[] p = new byte[length];
        p[0] = 0x80;
        p[2] = (byte)(seq >> 8);
        p[3] = (byte)seq;
        p[^1] = (byte)length;
        return p;
    }

    [Test]
    public void TryGet_StoredPacket_ReturnsExactCopy()
    {
        using var cache = new RtpPacketCache(16);
        byte[] original = Packet(42, 33);
        cache.Store(42, original);
        original[5] = 0xFF; // the cache must hold a copy

        Assert.That(cache.TryGet(42, out ReadOnlySpan<byte> stored), Is.True);
        Assert.That(stored.Length, Is.EqualTo(33));
        Assert.That(stored[5], Is.EqualTo(0));
        Assert.That(stored[3], Is.EqualTo(42));
    }

    [Test]
    public void TryGet_NeverStoredOrFutureSequence_ReturnsFalse()
    {
        using var cache = new RtpPacketCache(16);
        Assert.That(cache.TryGet(1, out _), Is.False);
        cache.Store(10, Packet(10));
        cache.Store(12, Packet(12));

        Assert.That(cache.TryGet(11, out _), Is.False, "lost, never stored");
        Assert.That(cache.TryGet(13, out _), Is.False, "not sent yet");
    }

    [Test]
    public void TryGet_AcrossWraparound_FindsBothSides()
    {
        using var cache = new RtpPacketCache(16);
        for (ushort s = 65530; s != 6; s++)
        {
            cache.Store(s, Packet(s));
        }

        Assert.That(cache.TryGet(65531, out ReadOnlySpan<byte> before), Is.True);
        Assert.That(before[3], Is.EqualTo(0xFB)); // low byte of 65531
        Assert.That(cache.TryGet(5, out ReadOnlySpan<byte> after), Is.True);
        Assert.That(after[3], Is.EqualTo(5));
    }

    [Test]
    public void TryGet_OlderThanWindow_ReturnsFalseEvenIfSlotUntouched()
    {
        using var cache = new RtpPacketCache(16);
        cache.Store(100, Packet(100));
        // A jump forward leaves slot 100 & 15 untouched, but 100 is out of the window now.
        cache.Store(200, Packet(200));

        Assert.That(cache.TryGet(100, out _), Is.False);
        Assert.That(cache.TryGet(200, out _), Is.True);
    }

    [Test]
    public void TryGet_OverwrittenSlot_DoesNotReturnNewerPacket()
    {
        using var cache = new RtpPacketCache(16);
        for (ushort s = 0; s < 40; s++)
        {
            cache.Store(s, Packet(s));
        }

        Assert.That(cache.TryGet(8, out _), Is.False, "slot now holds 40 - 16 + 8");
        Assert.That(cache.TryGet(23, out _), Is.False, "one ring behind the newest (39)");
        Assert.That(cache.TryGet(24, out ReadOnlySpan<byte> p), Is.True, "the oldest of the last 16");
        Assert.That(p[3], Is.EqualTo(24));
    }

    [Test]
    public void Store_LateRetransmissionWithinWindow_IsKept()
    {
        using var cache = new RtpPacketCache(16);
        cache.Store(10, Packet(10));
        cache.Store(12, Packet(12));

        Assert.That(cache.Store(11, Packet(11)), Is.True);
        Assert.That(cache.TryGet(11, out _), Is.True);
        Assert.That(cache.Store(65530, Packet(65530)), Is.False, "18 behind the newest, older than the window");
        Assert.That(cache.TryGet(65530, out _), Is.False);
    }

    [Test]
    public void Store_TooLarge_IsRejected()
    {
        using var cache = new RtpPacketCache(16, maxPacketLength: 100);
        Assert.That(cache.Store(1, new byte[101]), Is.False);
        Assert.That(cache.TryGet(1, out _), Is.False);
    }

    [Test]
    public void Clear_ForgetsEverything()
    {
        using var cache = new RtpPacketCache(16);
        cache.Store(5, Packet(5));
        cache.Clear();

        Assert.That(cache.TryGet(5, out _), Is.False);
        cache.Store(30000, Packet(30000));
        Assert.That(cache.TryGet(30000, out _), Is.True);
    }

    [Test]
    public void StoreAndGet_AfterWarmUp_DoNotAllocate()
    {
        using var cache = new RtpPacketCache(512);
        byte[] packet = Packet(0, 1200);

        // The first run warms up (and lets the JIT replace the loop's code, which may allocate on this thread);
        // the second, of the same compiled method, is the one measured.
        StoreAndGet(cache, packet, 0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        StoreAndGet(cache, packet, 100_000);

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.EqualTo(0));

        static void StoreAndGet(RtpPacketCache cache, byte[] packet, int start)
        {
            for (int i = start; i < start + 100_000; i++)
            {
                cache.Store((ushort)i, packet);
                cache.TryGet((ushort)(i - 100), out _);
            }
        }
    }

    [TestCase(0)]
    [TestCase(100)]
    [TestCase(65536)]
    public void Constructor_CapacityNotPowerOfTwoInRange_Throws(int capacity)
    {
        Assert.That(() => new RtpPacketCache(capacity), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
