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

    [TestCase(true, true, 14)]
    [TestCase(true, false, 7)]
    [TestCase(false, false, 4)]
    public void SendTimestamp_ReadsBackAfterTheVp8Header_WhateverTheHeaderLength(bool startOfFrame, bool keyframe, int header)
    {
        var payload = new byte[100];
        var length = Vp8Payload.Write(payload, 100, pictureId: 1234, startOfFrame, keyframe, fill: 0x55);
        Assert.That(Vp8Payload.HeaderLength(payload.AsSpan(0, length)), Is.EqualTo(header));
        Assert.That(SendTimestamp.TryRead(payload, out _), Is.False, "filler is never a stamp");

        Assert.That(SendTimestamp.TryWrite(payload.AsSpan(header), 0x0123_4567_89AB_CDEF), Is.True);

        Assert.Multiple(() =>
        {
            Assert.That(SendTimestamp.TryRead(payload, out var read), Is.True);
            Assert.That(read, Is.EqualTo(0x0123_4567_89AB_CDEF));
            Assert.That(RtpKeyframe.IsVp8(payload), Is.EqualTo(keyframe && startOfFrame), "the stamp leaves the key frame header alone");
        });
    }

    [Test]
    public void SendTimestamp_DoesNotFitInATinyPayload_AndATruncatedHeaderReadsAsNone()
    {
        var payload = new byte[Vp8Payload.MaxHeaderLength + SendTimestamp.Length - 1];
        Vp8Payload.Write(payload, payload.Length, pictureId: 1, startOfFrame: true, keyframe: true, fill: 0);
        Assert.Multiple(() =>
        {
            Assert.That(SendTimestamp.TryWrite(payload.AsSpan(Vp8Payload.MaxHeaderLength), 1), Is.False);
            Assert.That(Vp8Payload.HeaderLength(payload.AsSpan(0, 5)), Is.EqualTo(-1), "a key frame's first packet cut inside its header");
            Assert.That(SendTimestamp.TryRead([], out _), Is.False);
        });
    }

    [Test]
    public void LatencyHistogram_IsExactBelowAMillisecond_AndWithinTwoPercentAbove()
    {
        var histogram = new LatencyHistogram();
        for (var us = 1; us <= 100; us++) histogram.Record(us);
        var small = (P50: histogram.Percentile(0.5), P99: histogram.Percentile(0.99), Max: histogram.MaxMicroseconds);

        var other = new LatencyHistogram();
        for (var i = 0; i < 100; i++) other.Record(50_000);
        histogram.Add(other);

        Assert.Multiple(() =>
        {
            Assert.That(small, Is.EqualTo((50.0, 99.0, 100L)));
            Assert.That(histogram.Count, Is.EqualTo(200));
            Assert.That(histogram.Percentile(0.5), Is.EqualTo(100));
            Assert.That(histogram.Percentile(0.51), Is.EqualTo(50_000).Within(1.6).Percent);
            Assert.That(histogram.MaxMicroseconds, Is.EqualTo(50_000));
        });
        histogram.Clear();
        Assert.That(histogram.Count, Is.Zero);
        Assert.That(histogram.Percentile(0.5), Is.NaN);
    }
}
