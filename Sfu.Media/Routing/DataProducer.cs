using Sfu.Media.DataChannels;
using Sfu.Media.Diagnostics;
using Sfu.Media.Pipes;

namespace Sfu.Media.Routing;

/// <summary>
/// A data track: one data channel a client opened on its publish transport, relayed to a server-opened channel with
/// the same parameters on each subscriber's subscribe transport; on another worker, a mirror fed through a
/// <see cref="WorkerPipe"/> does the same for that worker's subscribers. Worker thread only.
/// </summary>
public sealed class DataProducer(string id, DataChannelParameters parameters, DataChannelMetrics metrics)
{
    private readonly List<DataConsumer> _consumers = [];
    private readonly List<WorkerPipe> _pipes = [];

    public string Id { get; } = id;

    public DataChannelParameters Parameters { get; } = parameters;

    public IReadOnlyList<DataConsumer> Consumers => _consumers;

    internal void Add(DataConsumer consumer) => _consumers.Add(consumer);

    internal void Remove(DataConsumer consumer) => _consumers.Remove(consumer);

    /// <summary>
    /// Hands one message to every subscriber. It is copied once: each association references that copy until its
    /// subscriber acknowledged it, so the copy cannot come from a reused buffer.
    /// </summary>
    internal void Relay(bool isString, ReadOnlySpan<byte> payload)
    {
        for (var i = _pipes.Count - 1; i >= 0; i--)
        {
            if (_pipes[i].IsReaderClosed) _pipes.RemoveAt(i);
            else if (!_pipes[i].TryWrite(PipeEntryKind.Data, isString ? (byte)1 : (byte)0, 0, payload)) metrics.RelayDropped(DataRelayDrop.PipeFull);
        }
        if (_consumers.Count == 0) return;
        ReadOnlyMemory<byte> copy = payload.ToArray();
        foreach (var consumer in _consumers) consumer.Send(isString, copy, metrics);
    }

    /// <summary>Starts sending every message through <paramref name="pipe"/> to a mirror on another worker.</summary>
    internal void PipeTo(WorkerPipe pipe) => _pipes.Add(pipe);

    /// <summary>The publisher closed the channel or left: every subscriber's channel closes too.</summary>
    internal void Close()
    {
        _pipes.Clear();
        foreach (var consumer in _consumers.ToArray()) consumer.Dispose();
    }
}
