using Sfu.Signaling.Sessions;

namespace Sfu.Tests.Signaling;

public sealed class ReplayLogTests
{
    [Test]
    public void GrowsPastItsInitialSize_AndReplaysEverythingAfterLastSeqInOrder()
    {
        var log = new ReplayLog(capacity: 100);
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
        var log = new ReplayLog(capacity: 20);
        for (var seq = 1; seq <= 25; seq++) log.Append(seq, [(byte)seq]);
        var missed = new List<byte[]>();

        Assert.Multiple(() =>
        {
            Assert.That(log.TryGetAfter(4, missed), Is.False, "seq 5 is gone");
            Assert.That(log.TryGetAfter(5, missed), Is.True);
            Assert.That(missed.Select(m => (int)m[0]), Is.EqualTo(Enumerable.Range(6, 20)));
        });
    }
}
