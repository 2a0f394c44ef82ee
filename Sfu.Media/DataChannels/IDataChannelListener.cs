namespace Sfu.Media.DataChannels;

/// <summary>What a <see cref="DataChannelTransport"/> tells its owner, on the thread that drives it.</summary>
public interface IDataChannelListener
{
    /// <summary>The SCTP association is up: this end may open channels (<see cref="DataChannelTransport.Open"/>).</summary>
    void OnDataChannelsEstablished(DataChannelTransport transport);

    /// <summary>The peer opened a channel (DCEP OPEN); it is acknowledged already.</summary>
    void OnDataChannelOpened(DataChannel channel);

    /// <summary>A message on an open channel. The span is only valid during the call.</summary>
    void OnDataChannelMessage(DataChannel channel, bool isString, ReadOnlySpan<byte> payload);

    /// <summary>The channel closed: the peer reset its stream, or the association ended.</summary>
    void OnDataChannelClosed(DataChannel channel);
}
