using Sfu.Signaling.Sessions;

namespace Sfu.Tests.Signaling;

public sealed class ReplayLogTests
{
    [Test]
    public void GrowsPastItsInitialSize_AndReplaysEverythingAfterLastSeqInOrder()
    {
        var log = new ReplayLog(capacity: 100, maxBytes: 1 << 20);
        for (var seq = 1; seq <= 60; seq++) log.Append(seq, [(byte)seq]);
        log.AcknowledgeUpTo(10);
        var missed = new List<byte[]>();

        Assert.Multiple(() =>
        {
            Assert.That(log.TryGetAfter(40, missed), Is.True);
            Assert.That(missed.Select(m => (int)m[0]), Is.EqualTo(Enumerable.Range(41, 20)));
            Assert.That(log.Count, Is.EqualTo(50));
        });
    }

    [Test]
    public void AtCapacity_ForgetsTheOldest_AndRefusesAReplayThatWouldNeedIt()
    {
        var log = new ReplayLog(capacity: 20, maxBytes: 1 << 20);
        for (var seq = 1; seq <= 25; seq++) log.Append(seq, [(byte)seq]);
        var missed = new List<byte[]>();

        Assert.Multiple(() =>
        {
            Assert.That(log.TryGetAfter(4, missed), Is.False, "seq 5 is gone");
            Assert.That(log.TryGetAfter(5, missed), Is.True);
            Assert.That(missed.Select(m => (int)m[0]), Is.EqualTo(Enumerable.Range(6, 20)));
        });
    }

    [Test]
    public void AtItsByteBound_ForgetsTheOldest_SoLargeMessagesCannotPileUp()
    {
        var log = new ReplayLog(capacity: 4096, maxBytes: 10_000);
        for (var seq = 1; seq <= 100; seq++) log.Append(seq, new byte[1000]);
        var missed = new List<byte[]>();

        Assert.Multiple(() =>
        {
            Assert.That(log.Bytes, Is.LessThanOrEqualTo(10_000));
            Assert.That(log.Count, Is.EqualTo(10));
            Assert.That(log.TryGetAfter(89, missed), Is.False, "seq 90 was forgotten for bytes");
            Assert.That(log.TryGetAfter(90, missed), Is.True);
            Assert.That(missed, Has.Count.EqualTo(10));
        });
        log.AcknowledgeUpTo(95);
        Assert.That(log.Bytes, Is.EqualTo(5_000), "acknowledged messages give their bytes back");
    }

    [Test]
    public void AMessageLargerThanTheByteBound_IsKeptAlone()
    {
        var log = new ReplayLog(capacity: 16, maxBytes: 100);
        log.Append(1, new byte[10]);
        log.Append(2, new byte[500]);
        var missed = new List<byte[]>();
        Assert.Multiple(() =>
        {
            Assert.That(log.Count, Is.EqualTo(1));
            Assert.That(log.TryGetAfter(1, missed), Is.True);
            Assert.That(missed.Single(), Has.Length.EqualTo(500));
        });
    }
}
