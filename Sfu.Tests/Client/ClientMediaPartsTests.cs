using Sfu.Client.Media;
using Sfu.Media.Rtp;

namespace Sfu.Tests.Client;

public sealed class ClientMediaPartsTests
{
    [Test]
    public void SequenceTracker_CountsGapsLossDuplicatesAndLateArrivals_AcrossTheWrap()
    {
        var tracker = new SequenceTracker();
        ushort[] arrivals = [65533, 65534, 1, 2, 65535, 2, 5];   // 0, 3, 4 missing; 65535 late; 2 twice
        var outcomes = arrivals.Select(tracker.Accept).ToArray();
        var missing = new ushort[8];
        var count = tracker.CopyMissing(missing);
        Assert.Multiple(() =>
        {
            Assert.That(outcomes, Is.EqualTo(new[]
            {
                SequenceOutcome.New, SequenceOutcome.New, SequenceOutcome.New, SequenceOutcome.New,
                SequenceOutcome.Late, SequenceOutcome.Duplicate, SequenceOutcome.New,
            }));
            Assert.That(tracker.Expected, Is.EqualTo(9));
            Assert.That(tracker.Lost, Is.EqualTo(3));
            Assert.That(tracker.Gaps, Is.EqualTo(2));
            Assert.That(tracker.Duplicates, Is.EqualTo(1));
            Assert.That(tracker.Late, Is.EqualTo(1));
            Assert.That(missing[..count], Is.EqualTo(new ushort[] { 0, 3, 4 }));
        });
    }

    [Test]
    public void SequenceTracker_AJumpLongerThanTheWindow_ForgetsOldMarks()
    {
        var tracker = new SequenceTracker();
        tracker.Accept(10);
        tracker.Accept(10 + 2048);
        Assert.That(tracker.Accept(10 + 1024), Is.EqualTo(SequenceOutcome.TooOld));
        Assert.That(tracker.Accept(10 + 2047), Is.EqualTo(SequenceOutcome.Late), "inside the window and never seen");
    }

    [Test]
    public void Vp8Payload_KeyframesAreDetectedAsSuch_AndOnlyOnTheFirstPacket()
    {
        var buffer = new byte[200];
        Vp8Payload.Write(buffer, 200, pictureId: 300, startOfFrame: true, keyframe: true, fill: 7);
        var key = RtpKeyframe.IsVp8(buffer);
        Vp8Payload.Write(buffer, 200, pictureId: 301, startOfFrame: true, keyframe: false, fill: 7);
        var delta = RtpKeyframe.IsVp8(buffer);
        Vp8Payload.Write(buffer, 200, pictureId: 300, startOfFrame: false, keyframe: true, fill: 7);
        var continuation = RtpKeyframe.IsVp8(buffer);
        Assert.Multiple(() =>
        {
            Assert.That(key, Is.True);
            Assert.That(delta, Is.False);
            Assert.That(continuation, Is.False);
        });
    }

    [Test]
    public void SendHistory_ReturnsWhatWasStored_UntilOverwritten()
    {
        var history = new SendHistory(capacity: 4, maxPacketSize: 16);
        history.Store(100, [1, 2, 3]);
        var copy = new byte[16];
        Assert.That(history.TryCopy(100, copy), Is.EqualTo(3));
        Assert.That(copy[..3], Is.EqualTo(new byte[] { 1, 2, 3 }));
        history.Store(104, [9]);
        Assert.That(history.TryCopy(100, copy), Is.Zero);
    }
}
