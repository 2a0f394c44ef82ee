using Sfu.Media.DataChannels;
using Sfu.Media.Diagnostics;

namespace Sfu.Media.Routing;

/// <summary>
/// A data track: one data channel a client opened on its publish transport, relayed to a server-opened channel with
/// the same parameters on each subscriber's subscribe transport. Worker thread only.
/// </summary>
public sealed class DataProducer(string id, DataChannel channel, DataChannelMetrics metrics)
{
    private readonly List<DataConsumer> _consumers = [];

    public string Id { get; } = id;

    public DataChannel Channel { get; } = channel;

    public DataChannelParameters Parameters => Channel.Parameters;

    public IReadOnlyList<DataConsumer> Consumers => _consumers;

    internal void Add(DataConsumer consumer) => _consumers.Add(consumer);

    internal void Remove(DataConsumer consumer) => _consumers.Remove(consumer);

    /// <summary>
    /// Hands one message to every subscriber. It is copied once: each association references that copy until its
    /// subscriber acknowledged it, so the copy cannot come from a reused buffer.
    /// </summary>
    internal void Relay(bool isString, ReadOnlySpan<byte> payload)
    {
        if (_consumers.Count == 0) return;
        ReadOnlyMemory<byte> copy = payload.ToArray();
        foreach (var consumer in _consumers) consumer.Send(isString, copy, metrics);
    }

    /// <summary>The publisher closed the channel or left: every subscriber's channel closes too.</summary>
    internal void Close()
    {
        foreach (var consumer in _consumers.ToArray()) consumer.Dispose();
    }
}
