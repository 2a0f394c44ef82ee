using Sfu.Media.Rtp;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Rtp;

public class NackGeneratorTests
{
    private readonly ManualClock _clock = new();

    private ushort[] Due(NackGenerator generator)
    {
        ushort[] buffer = new ushort[64];
        return buffer[..generator.CollectDue(buffer)];
    }

    [Test]
    public void Gap_IsReportedOnce_ThenRetriedAfterInterval()
    {
        var generator = new NackGenerator(_clock, retryInterval: TimeSpan.FromMilliseconds(100));
        generator.OnPacketReceived(10);
        generator.OnPacketReceived(13);

        Assert.That(Due(generator), Is.EqualTo(new ushort[] { 11, 12 }));
        Assert.That(Due(generator), Is.Empty);
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.That(Due(generator), Is.EqualTo(new ushort[] { 11, 12 }));
    }

    [Test]
    public void ArrivedRetransmission_IsNoLongerRequested()
    {
        var generator = new NackGenerator(_clock);
        generator.OnPacketReceived(65534);
        generator.OnPacketReceived(2);
        generator.OnPacketReceived(0);

        Assert.That(Due(generator), Is.EqualTo(new ushort[] { 65535, 1 }));
        Assert.That(generator.MissingCount, Is.EqualTo(2));
    }

    [Test]
    public void MissingPacket_IsAbandonedAfterMaxRetries()
    {
        var generator = new NackGenerator(_clock, retryInterval: TimeSpan.FromMilliseconds(10), maxRetries: 3);
        generator.OnPacketReceived(1);
        generator.OnPacketReceived(3);
        int requests = 0;
        for (int i = 0; i < 10; i++)
        {
            requests += Due(generator).Length;
            _clock.Advance(TimeSpan.FromMilliseconds(10));
        }

        Assert.That(requests, Is.EqualTo(3));
        Assert.That(generator.MissingCount, Is.EqualTo(0));
    }

    [Test]
    public void HugeJump_IsTreatedAsResetNotAsThousandsLost()
    {
        var generator = new NackGenerator(_clock);
        generator.OnPacketReceived(1);
        generator.OnPacketReceived(3);
        generator.OnPacketReceived(20000);

        Assert.That(Due(generator), Is.Empty);
    }

    [Test]
    public void MoreGapsThanCapacity_KeepsNewest()
    {
        var generator = new NackGenerator(_clock, capacity: 4);
        generator.OnPacketReceived(0);
        generator.OnPacketReceived(7);

        Assert.That(Due(generator), Is.EqualTo(new ushort[] { 3, 4, 5, 6 }));
    }
}
