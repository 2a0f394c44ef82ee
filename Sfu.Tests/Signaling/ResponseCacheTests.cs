using System.Text;
using Sfu.Signaling.Protocol;
using Sfu.Signaling.Sessions;

namespace Sfu.Tests.Signaling;

public sealed class ResponseCacheTests
{
    [Test]
    public void RepeatedId_IsInFlightUntilAnswered_ThenAnsweredWithTheStoredBytes()
    {
        var cache = new ResponseCache(capacity: 8);
        var id = RequestId.FromNumber(1);

        Assert.That(cache.Begin(id, out _), Is.EqualTo(ResponseCache.Lookup.New));
        Assert.That(cache.Begin(id, out _), Is.EqualTo(ResponseCache.Lookup.InFlight));
        cache.Complete(id, new StoredResponse(Seq: 4, Bytes: [1, 2, 3]));
        Assert.Multiple(() =>
        {
            Assert.That(cache.Begin(id, out var stored), Is.EqualTo(ResponseCache.Lookup.Answered));
            Assert.That(stored.ToMessage(id), Is.EqualTo(new byte[] { 1, 2, 3 }));
        });
    }

    [Test]
    public void BareOk_KeptAsItsSeq_IsWrittenAgainByteForByte()
    {
        var cache = new ResponseCache(capacity: 8);
        var id = RequestId.FromText("ping-9");
        var original = ServerMessage.Response(id, seq: 42, result: null);

        cache.Begin(id, out _);
        cache.Complete(id, new StoredResponse(Seq: 42, Bytes: null));
        cache.Begin(id, out var stored);

        Assert.That(Encoding.UTF8.GetString(stored.ToMessage(id)), Is.EqualTo(Encoding.UTF8.GetString(original)));
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
