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

    [Test]
    public void AcrossWrapAround_TheLatestIdsKeepTheirOwnAnswers()
    {
        var cache = new ResponseCache(capacity: 3);
        for (var i = 1; i <= 5; i++)
        {
            cache.Begin(RequestId.FromNumber(i), out _);
            cache.Complete(RequestId.FromNumber(i), new StoredResponse(Seq: 100 + i, Bytes: null));
        }
        // An answer for an id that has left the window is dropped, not written over a newer id's slot.
        cache.Complete(RequestId.FromNumber(1), new StoredResponse(Seq: 999, Bytes: null));

        Assert.Multiple(() =>
        {
            for (var i = 3; i <= 5; i++)
            {
                Assert.That(cache.Begin(RequestId.FromNumber(i), out var stored), Is.EqualTo(ResponseCache.Lookup.Answered));
                Assert.That(stored.Seq, Is.EqualTo(100 + i));
            }
            Assert.That(cache.Begin(RequestId.FromNumber(2), out _), Is.EqualTo(ResponseCache.Lookup.New));
        });
    }

    [Test]
    public void ARequestWithoutAnId_IsRefused_RatherThanMistakenForAnEmptySlot()
    {
        var cache = new ResponseCache(capacity: 4);
        Assert.That(() => cache.Begin(RequestId.None, out _), Throws.ArgumentException);
    }
}
