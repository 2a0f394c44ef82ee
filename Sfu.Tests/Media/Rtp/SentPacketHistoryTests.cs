using Sfu.Media.Rtp;

namespace Sfu.Tests.Media.Rtp;

public sealed class SentPacketHistoryTests
{
    // One tick a microsecond: 100 000 ticks are the assumed round trip.
    private const long Frequency = 1_000_000;

    [Test]
    public void RecordedPacket_IsFoundWithWhatItCarried_UntilItsSlotIsTakenBySequencePlusSize()
    {
        var history = new SentPacketHistory(Frequency);
        ref var sent = ref history.Record(65_535, sourceLayer: 2, sourceSsrc: 0xABCD, sourceSequence: 4_000, timestamp: 90_000, marker: true, now: 10);
        (sent.PictureOffset, sent.Tl0Offset) = (300, 7);

        Assert.That(history.TryResend(65_535, 20, out var entry), Is.EqualTo(SentPacketHistory.Resend.Allowed));
        Assert.That((entry.SourceLayer, entry.SourceSsrc, entry.SourceSequence, entry.Timestamp, entry.Marker, entry.PictureOffset, entry.Tl0Offset), Is.EqualTo(((byte)2, 0xABCDu, (ushort)4_000, 90_000u, true, (ushort)300, (byte)7)));
        Assert.That(history.Contains(65_534), Is.False, "never sent");

        history.Record(unchecked((ushort)(65_535 + SentPacketHistory.Size)), 0, 1, 1, 2, marker: false, now: 30);
        Assert.That(history.Contains(65_535), Is.False, "its slot went to a packet sent 1 024 numbers later, across the wrap");
        Assert.That(history.TryResend(65_535, 40, out _), Is.EqualTo(SentPacketHistory.Resend.Unknown));
    }

    [Test]
    public void Resend_AtMostOncePerRoundTrip_AndANewPacketInTheSlotStartsAfresh()
    {
        var history = new SentPacketHistory(Frequency);
        history.Record(7, 0, 1, 7, 0, marker: false, now: 0);

        Assert.That(history.TryResend(7, 1_000, out _), Is.EqualTo(SentPacketHistory.Resend.Allowed));
        Assert.That(history.TryResend(7, 100_999, out _), Is.EqualTo(SentPacketHistory.Resend.Throttled), "within 100 ms of the first");
        Assert.That(history.TryResend(7, 101_000, out _), Is.EqualTo(SentPacketHistory.Resend.Allowed), "a round trip later");

        history.Record(7 + SentPacketHistory.Size, 0, 1, 8, 0, marker: false, now: 102_000);
        Assert.That(history.TryResend(7 + SentPacketHistory.Size, 102_500, out _), Is.EqualTo(SentPacketHistory.Resend.Allowed), "never re-sent itself");
    }

    [Test]
    public void SentSince_ComparesTheSendTime()
    {
        var history = new SentPacketHistory(Frequency);
        history.Record(1, 0, 1, 1, 0, marker: false, now: 500);

        Assert.That(history.SentSince(1, 500), Is.True);
        Assert.That(history.SentSince(1, 501), Is.False);
        Assert.That(history.SentSince(2, 0), Is.False, "never sent");
    }
}
