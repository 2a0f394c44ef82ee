using Sfu.Media.DataChannels;
using Sfu.Media.Rtcp;
using Sfu.Media.Worker;

namespace Sfu.Media.Routing;

/// <summary>What a producer may ask of the publish transport that owns it. Worker thread only.</summary>
internal interface IProducerHost
{
    IMediaHost Host { get; }

    /// <summary>Sends the publisher a PLI for one of its streams.</summary>
    void SendKeyframeRequest(uint mediaSsrc);

    /// <summary>Sends the publisher a receiver report about one of its streams.</summary>
    void SendReceiverReport(RtcpReportBlock block);
}

/// <summary>
/// What a producer fed by the publisher's own transport may ask besides: retransmissions. Only that host has the
/// publisher to ask; a producer fed otherwise gets packets already repaired (or not at all).
/// </summary>
internal interface IUplinkRepairHost : IProducerHost
{
    /// <summary>Sends the publisher a generic NACK for lost packets of one of its streams.</summary>
    void SendNack(uint mediaSsrc, ReadOnlySpan<ushort> lost);
}

/// <summary>What a consumer may ask of the subscribe transport that owns it. Worker thread only.</summary>
internal interface IConsumerHost
{
    IMediaHost Host { get; }

    /// <summary>Whether a packet sent now would go out: keyed, with a selected path.</summary>
    bool CanSend { get; }

    /// <summary>The transport-wide sequence number the next packet sent carries.</summary>
    ushort NextTransportSequence { get; }

    /// <summary>
    /// Sends an RTP packet written into <see cref="IMediaHost.SendBuffer"/>; see <see cref="SubscriberMedia"/>. A stamped
    /// packet's send time, for the bandwidth estimate, is read now, not taken from the caller.
    /// </summary>
    bool SendRtp(Span<byte> buffer, int length, bool stamped);

    void SendSenderReport(uint ssrc, ulong ntp, uint rtp, uint packets, uint octets);

    /// <summary>The consumer closed: its owner forgets it.</summary>
    void RemoveConsumer(Consumer consumer);
}

/// <summary>What a data consumer may ask of the subscribe transport that owns it. Worker thread only.</summary>
internal interface IDataConsumerHost
{
    /// <summary>The transport's data channels; null until its SDP negotiated them.</summary>
    DataChannelTransport? DataChannels { get; }

    /// <summary>The data consumer closed: its owner forgets it.</summary>
    void RemoveDataConsumer(DataConsumer consumer);
}
