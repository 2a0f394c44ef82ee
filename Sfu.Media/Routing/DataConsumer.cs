using Sfu.Media.DataChannels;
using Sfu.Media.Diagnostics;
using Sfu.Media.Sctp;

namespace Sfu.Media.Routing;

/// <summary>
/// One subscriber's copy of a data track: a channel the server opens (DCEP OPEN, the publisher's label, ordering and
/// reliability, the track id as its protocol) on the subscribe transport once that transport's association is up.
/// Its queue is the association's send buffer, bounded in bytes: when it is full a reliable channel's message is
/// refused and an unreliable one's dropped, each counted. Worker thread only.
/// </summary>
public sealed class DataConsumer : IDisposable
{
    private readonly IDataConsumerHost _subscriber;
    private bool _disposed;

    internal DataConsumer(DataProducer producer, IDataConsumerHost subscriber)
    {
        Producer = producer;
        _subscriber = subscriber;
        producer.Add(this);
        TryOpen();
    }

    public DataProducer Producer { get; }

    /// <summary>The server-opened channel; null until the subscriber's association is established.</summary>
    public DataChannel? Channel { get; private set; }

    private bool Reliable => Producer.Parameters is { MaxRetransmits: null, MaxLifetimeMs: null };

    /// <summary>Opens the channel if the association is up and the channel is not open (yet, or since a new association).</summary>
    internal void TryOpen()
    {
        if (Channel is { IsOpen: true } || _disposed || _subscriber.DataChannels is not { Association.State: SctpAssociationState.Established } channels) return;
        Channel = channels.Open(Producer.Parameters with { Protocol = Producer.Id });
    }

    internal void Send(bool isString, ReadOnlyMemory<byte> payload, DataChannelMetrics metrics)
    {
        if (Channel is not { IsOpen: true } channel || _subscriber.DataChannels is not { } channels)
        {
            metrics.RelayDropped(DataRelayDrop.ChannelNotOpen);
            return;
        }

        var status = channels.Send(channel, isString, payload);
        if (status == SctpSendStatus.Queued) return;
        metrics.RelayDropped(status switch
        {
            SctpSendStatus.BufferFull => Reliable ? DataRelayDrop.ReliableRefused : DataRelayDrop.UnreliableDropped,
            SctpSendStatus.Invalid => DataRelayDrop.TooLarge,
            _ => DataRelayDrop.ChannelNotOpen,
        });
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Producer.Remove(this);
        _subscriber.RemoveDataConsumer(this);
        if (Channel is { IsOpen: true } channel) _subscriber.DataChannels?.Close(channel);
    }
}
