using Sfu.Media.Rtp;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Rtp;

public class KeyframeRequestThrottleTests
{
    private readonly ManualClock _clock = new();

    [Test]
    public void Request_First_IsSentAtOnce()
    {
        var throttle = new KeyframeRequestThrottle(_clock, TimeSpan.FromMilliseconds(500));

        Assert.That(throttle.Request(), Is.True);
        Assert.That(throttle.IsOutstanding, Is.True);
        Assert.That(throttle.FirSequenceNumber, Is.EqualTo(1));
    }

    [Test]
    public void Request_ManyWithinInterval_OnlyOneSent()
    {
        var throttle = new KeyframeRequestThrottle(_clock, TimeSpan.FromMilliseconds(500));
        int sent = 0;
        for (int i = 0; i < 10; i++)
        {
            sent += throttle.Request() ? 1 : 0;
            _clock.Advance(TimeSpan.FromMilliseconds(49));
        }

        Assert.That(sent, Is.EqualTo(1));
        Assert.That(throttle.FirSequenceNumber, Is.EqualTo(1));
    }

    [Test]
    public void Poll_OutstandingRequestAfterInterval_IsRetried()
    {
        var throttle = new KeyframeRequestThrottle(_clock, TimeSpan.FromMilliseconds(500));
        throttle.Request();

        _clock.Advance(TimeSpan.FromMilliseconds(499));
        Assert.That(throttle.Poll(), Is.False);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(throttle.Poll(), Is.True);
        Assert.That(throttle.FirSequenceNumber, Is.EqualTo(2));
    }

    [Test]
    public void Poll_AfterKeyframeArrived_SendsNothing()
    {
        var throttle = new KeyframeRequestThrottle(_clock, TimeSpan.FromMilliseconds(500));
        throttle.Request();
        throttle.OnKeyframeReceived();

        _clock.Advance(TimeSpan.FromSeconds(5));

        Assert.That(throttle.IsOutstanding, Is.False);
        Assert.That(throttle.Poll(), Is.False);
    }

    [Test]
    public void Request_AfterTheLastWasAnswered_IsDeferredToAQuarterOfTheInterval_NotLost()
    {
        var throttle = new KeyframeRequestThrottle(_clock, TimeSpan.FromSeconds(1));
        throttle.Request();
        _clock.Advance(TimeSpan.FromMilliseconds(40));
        throttle.OnKeyframeReceived();
        _clock.Advance(TimeSpan.FromMilliseconds(60));

        Assert.That(throttle.Request(), Is.False, "a new subscriber 100 ms after the last PLI waits");
        _clock.Advance(TimeSpan.FromMilliseconds(149));
        Assert.That(throttle.Poll(), Is.False);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(throttle.Poll(), Is.True, "and gets its keyframe request 250 ms after the last, not a second");
    }

    [Test]
    public void Request_WhileTheLastIsUnanswered_WaitsTheWholeInterval()
    {
        var throttle = new KeyframeRequestThrottle(_clock, TimeSpan.FromSeconds(1));
        throttle.Request();
        _clock.Advance(TimeSpan.FromMilliseconds(300));

        Assert.That(throttle.Request(), Is.False);
        _clock.Advance(TimeSpan.FromMilliseconds(699));
        Assert.That(throttle.Poll(), Is.False);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(throttle.Poll(), Is.True);
    }

    [Test]
    public void Storm_OfRequestsEachAnsweredQuickly_GetsAtMostFourKeyframesASecond()
    {
        var throttle = new KeyframeRequestThrottle(_clock, TimeSpan.FromSeconds(1));
        var sent = 0;
        long answerAt = -1;
        // Every subscriber asks every 10 ms for 2 s; the publisher answers each request sent 40 ms later.
        for (var ms = 0; ms < 2000; ms += 10)
        {
            if (ms == answerAt) throttle.OnKeyframeReceived();
            if (throttle.Request())
            {
                sent++;
                answerAt = ms + 40;
            }
            _clock.Advance(TimeSpan.FromMilliseconds(10));
        }

        Assert.That(sent, Is.EqualTo(8));
    }

    [Test]
    public void ResendAfterSilence_ARequestSentDuringTheSilence_GoesOutAgainAtOnce()
    {
        var throttle = new KeyframeRequestThrottle(_clock, TimeSpan.FromSeconds(1));
        var lastPacket = _clock.GetTimestamp();
        _clock.Advance(TimeSpan.FromMilliseconds(1500));
        Assert.That(throttle.Request(), Is.True, "asked while the publisher was away");
        _clock.Advance(TimeSpan.FromMilliseconds(300));

        Assert.That(throttle.ResendAfterSilence(lastPacket), Is.True, "300 ms into the interval");
        Assert.That(throttle.FirSequenceNumber, Is.EqualTo(2));
        Assert.That(throttle.Poll(), Is.False, "the interval starts again from the resend");
    }

    [Test]
    public void ResendAfterSilence_ARequestSentBeforeTheSilence_WaitsForItsRetry()
    {
        var throttle = new KeyframeRequestThrottle(_clock, TimeSpan.FromSeconds(1));
        Assert.That(throttle.Request(), Is.True);
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        var lastPacket = _clock.GetTimestamp();
        _clock.Advance(TimeSpan.FromMilliseconds(600));

        Assert.That(throttle.ResendAfterSilence(lastPacket), Is.False, "the publisher had it while it was still sending");
    }

    [Test]
    public void ResendAfterSilence_NothingOutstanding_SendsNothing()
    {
        var throttle = new KeyframeRequestThrottle(_clock, TimeSpan.FromSeconds(1));
        var lastPacket = _clock.GetTimestamp();
        _clock.Advance(TimeSpan.FromMilliseconds(500));
        throttle.Request();
        throttle.OnKeyframeReceived();
        _clock.Advance(TimeSpan.FromMilliseconds(500));

        Assert.That(throttle.ResendAfterSilence(lastPacket), Is.False);
    }

    [Test]
    public void DefaultInterval_IsOneSecond()
    {
        var throttle = new KeyframeRequestThrottle(_clock);
        throttle.Request();
        _clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.That(throttle.Request(), Is.False);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(throttle.Request(), Is.True);
    }
}
