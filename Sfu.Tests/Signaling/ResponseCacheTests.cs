using Sfu.Signaling.Protocol;
using Sfu.Signaling.Sessions;

namespace Sfu.Tests.Signaling;

public sealed class ResponseCacheTests
{
    [Test]
    public void RepeatedId_IsInFlightThenAnswered_AndAfterAcknowledgementStillNotNew_ButHoldsNoBytes()
    {
        var cache = new ResponseCache(capacity: 8);
        var id = RequestId.FromNumber(1);

        Assert.That(cache.Begin(id, out _), Is.EqualTo(ResponseCache.Lookup.New));
        Assert.That(cache.Begin(id, out _), Is.EqualTo(ResponseCache.Lookup.InFlight));
        cache.Complete(id, seq: 5, [1, 2, 3]);
        Assert.That(cache.Begin(id, out var stored), Is.EqualTo(ResponseCache.Lookup.Answered));
        Assert.That(stored, Is.EqualTo(new byte[] { 1, 2, 3 }));

        cache.Acknowledge(4);
        Assert.That(cache.Begin(id, out stored), Is.EqualTo(ResponseCache.Lookup.Answered));
        Assert.That(stored, Is.Not.Null, "seq 5 is not acknowledged by 4");

        cache.Acknowledge(5);
        Assert.Multiple(() =>
        {
            Assert.That(cache.Begin(id, out stored), Is.EqualTo(ResponseCache.Lookup.Answered), "never executed twice");
            Assert.That(stored, Is.Null, "the client has it; the bytes are gone");
        });
    }

    [Test]
    public void BeyondCapacity_TheOldestIdIsForgotten()
    {
        var cache = new ResponseCache(capacity: 2);
        for (var i = 1; i <= 3; i++) cache.Begin(RequestId.FromNumber(i), out _);
        Assert.Multiple(() =>
        {
            Assert.That(cache.Begin(RequestId.FromNumber(1), out _), Is.EqualTo(ResponseCache.Lookup.New));
            Assert.That(cache.Begin(RequestId.FromNumber(3), out _), Is.EqualTo(ResponseCache.Lookup.InFlight));
        });
    }
}
