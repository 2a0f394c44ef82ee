using System.Text;
using Sfu.Signaling.Connections;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Signaling;

/// <summary>
/// Thousands of sessions each ping once a second, so what one ping allocates is what the garbage collector works
/// through (docs/BENCHMARKS.md, signaling). The real core runs here; the socket is an in-memory stand-in that keeps
/// nothing, because Kestrel's share is measured by the load tool, not by a test.
/// </summary>
public sealed class PingAllocationTests
{
    [Test]
    public async Task APing_AllocatesItsParsedDocumentAndItsResponse_AndLittleElse()
    {
        using var signaling = await InMemorySignaling.JoinAsync("r");

        // Each ping acknowledges everything before it (seq 1 is the join response). Messages are built up front so
        // that only the core's allocation is counted; the first run warms up and the second is measured.
        const int Pings = 2000;
        var messages = Enumerable.Range(1, 2 * Pings)
            .Select(id => Encoding.UTF8.GetBytes($"{{\"type\":\"ping\",\"id\":{id},\"lastSeq\":{id}}}"))
            .ToArray();
        Run(signaling.Connection, messages.AsSpan(0, Pings));
        var before = GC.GetAllocatedBytesForCurrentThread();
        Run(signaling.Connection, messages.AsSpan(Pings));
        var perPing = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Pings;

        // 208 bytes when measured: the JsonDocument, the request and the ~45-byte response. It was 864 before the
        // envelope writer stopped allocating a writer, a buffer and two closures per message.
        Assert.That(perPing, Is.LessThan(320));
    }

    private static void Run(SignalingConnection connection, ReadOnlySpan<byte[]> messages)
    {
        foreach (var message in messages)
        {
            var handled = connection.OnTextMessageAsync(message);
            // A ping is handled synchronously, on this thread; anything else would hide allocation elsewhere.
            if (!handled.IsCompletedSuccessfully) throw new InvalidOperationException("a ping did not complete synchronously");
        }
    }
}
