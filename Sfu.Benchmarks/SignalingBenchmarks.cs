using System.Buffers.Text;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Sfu.Signaling;
using Sfu.Signaling.Connections;
using Sfu.Signaling.Sessions;

namespace Sfu.Benchmarks;

/// <summary>
/// One signaling request through the real core: <see cref="SignalingConnection"/> parses it, the session answers
/// (numbered, logged for replay, remembered for a repeated id) and queues the response on its connection. The only
/// stand-in is the socket: an in-memory <see cref="ISessionConnection"/> that keeps nothing, because Kestrel's
/// WebSocket is measured by the load tool (tools/Sfu.LoadTest). What this shows is the core's own time and
/// allocation per message, which is what thousands of pinging sessions put on the garbage collector.
/// </summary>
[MemoryDiagnoser]
public class SignalingBenchmarks
{
    private static readonly byte[] PingPrefix = Encoding.UTF8.GetBytes("{\"type\":\"ping\",\"id\":");
    private static readonly byte[] LastSeqField = Encoding.UTF8.GetBytes(",\"lastSeq\":");

    private readonly byte[] _message = new byte[128];
    private ServiceProvider _services = null!;
    private SignalingConnection _connection = null!;
    private long _nextId;

    [GlobalSetup]
    public void Setup()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            // One socket sends as fast as the benchmark can: lift the per-socket rate limit.
            ["Sfu:Signaling:MessagesPerSecondPerSocket"] = "1000000000",
        }).Build();
        _services = new ServiceCollection().AddLogging().AddSfuSignaling(configuration, TimeProvider.System).BuildServiceProvider();
        _connection = _services.GetRequiredService<SignalingService>().Accept(new DiscardingConnection(), "127.0.0.1");
        _connection.OnTextMessageAsync(Encoding.UTF8.GetBytes("{\"id\":0,\"type\":\"join\",\"room\":\"bench\",\"autoSubscribe\":false}"))
            .GetAwaiter().GetResult();
        if (_connection.Session is null) throw new InvalidOperationException("the benchmark's join was refused");
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    /// <summary>A ping that acknowledges everything received so far, as a well-behaved client sends once a second.</summary>
    [Benchmark]
    public Task Ping()
    {
        var id = ++_nextId;
        // The session's seq is the join response (1) plus one response per ping so far.
        return _connection.OnTextMessageAsync(PingMessage(id, lastSeq: id));
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

    private sealed class DiscardingConnection : ISessionConnection
    {
        public string Id => "bench";
        public string RemoteEndpoint => "127.0.0.1:1";
        public bool TrySend(byte[] message) => true;
        public void Close(int code, string reason) { }
        public void Supersede() { }
        public void Abort() { }
    }
}
