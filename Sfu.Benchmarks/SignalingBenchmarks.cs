using System.Buffers.Text;
using System.Text;
using BenchmarkDotNet.Attributes;
using Sfu.Signaling.Connections;
using Sfu.Tests.Infrastructure;

namespace Sfu.Benchmarks;

/// <summary>
/// One signaling request through the real core: <see cref="SignalingConnection"/> parses it, the session answers
/// (numbered, logged for replay, remembered for a repeated id) and queues the response on its connection. The only
/// stand-in is the socket (<see cref="InMemorySignaling"/>, shared with the ping allocation test), because Kestrel's
/// WebSocket is measured by the load tool (tools/Sfu.LoadTest). What this shows is the core's own time and
/// allocation per message, which is what thousands of pinging sessions put on the garbage collector.
/// </summary>
[MemoryDiagnoser]
public class SignalingBenchmarks
{
    private static readonly byte[] PingPrefix = Encoding.UTF8.GetBytes("{\"type\":\"ping\",\"id\":");
    private static readonly byte[] LastSeqField = Encoding.UTF8.GetBytes(",\"lastSeq\":");

    private readonly byte[] _message = new byte[128];
    private InMemorySignaling _signaling = null!;
    private long _nextId;

    [GlobalSetup]
    public void Setup() => _signaling = InMemorySignaling.JoinAsync("bench").GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => _signaling.Dispose();

    /// <summary>A ping that acknowledges everything received so far, as a well-behaved client sends once a second.</summary>
    [Benchmark]
    public Task Ping()
    {
        var id = ++_nextId;
        // The session's seq is the join response (1) plus one response per ping so far.
        return _signaling.Connection.OnTextMessageAsync(PingMessage(id, lastSeq: id));
    }

    private ReadOnlyMemory<byte> PingMessage(long id, long lastSeq)
    {
        var span = _message.AsSpan();
        PingPrefix.CopyTo(span);
        var length = PingPrefix.Length;
        Utf8Formatter.TryFormat(id, span[length..], out var written);
        length += written;
        LastSeqField.CopyTo(span[length..]);
        length += LastSeqField.Length;
        Utf8Formatter.TryFormat(lastSeq, span[length..], out written);
        length += written;
        span[length++] = (byte)'}';
        return _message.AsMemory(0, length);
    }
}
