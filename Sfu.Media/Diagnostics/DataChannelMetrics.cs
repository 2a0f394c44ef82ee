using Prometheus;
using Sfu.Media.DataChannels;
using Sfu.Media.Sctp;

namespace Sfu.Media.Diagnostics;

/// <summary>Why the relay did not hand a message to one subscriber's channel.</summary>
public enum DataRelayDrop
{
    /// <summary>The subscriber's channel is not open: its association is not up yet, or the subscriber closed it.</summary>
    ChannelNotOpen,

    /// <summary>A reliable channel's send buffer is full: the message is refused, never silently lost mid-stream.</summary>
    ReliableRefused,

    /// <summary>An unreliable channel's send buffer is full: the message is dropped, as such a channel allows.</summary>
    UnreliableDropped,

    /// <summary>Larger than the subscriber's a=max-message-size.</summary>
    TooLarge,

    /// <summary>Not passed on to the subscribers on another media worker: the pipe to that worker was full.</summary>
    PipeFull,
}

/// <summary>
/// Data channel figures summed over every transport's SCTP association: messages and bytes each way, retransmissions,
/// and drops by reason (the association's own, plus messages on a stream with no open channel). Associations count
/// into their own <see cref="SctpCounters"/>; each transport folds what changed into these totals on the worker's
/// tick (<see cref="DataChannelCounterFold"/>), so nothing is counted twice and nothing here is per message.
/// </summary>
public sealed class DataChannelMetrics
{
    private const int MessagesReceived = 0;
    private const int BytesReceived = 1;
    private const int MessagesSent = 2;
    private const int BytesSent = 3;
    private const int Retransmissions = 4;
    private const int FirstDrop = 5;

    /// <summary>
    /// The association's drop reasons that are counted from it. Not send-buffer-full: every message the server sends
    /// is a relay's (or a DCEP message), and the relay counts refusals by what they mean for the channel.
    /// </summary>
    private static readonly SctpDropReason[] AssociationDrops =
        [.. Enum.GetValues<SctpDropReason>().Where(r => r is not SctpDropReason.Count and not SctpDropReason.SendBufferFull)];

    /// <summary>Label values of the drop reasons, in figure order: the association's, unknown-channel, then the relay's.</summary>
    internal static readonly string[] DropLabels =
    [
        .. AssociationDrops.Select(r => MetricLabels.Kebab(r.ToString())),
        "unknown-channel",
        .. Enum.GetValues<DataRelayDrop>().Select(r => MetricLabels.Kebab(r.ToString())),
    ];

    /// <summary>The figures an association has (<see cref="Read"/>); the relay's drops come after them.</summary>
    internal static readonly int AssociationFigureCount = FirstDrop + AssociationDrops.Length + 1;

    internal static readonly int FigureCount = FirstDrop + DropLabels.Length;

    private readonly long[] _totals = new long[FigureCount];
    private readonly Counter _establishedAssociations;

    public DataChannelMetrics(CollectorRegistry registry)
    {
        var factory = MetricFactories.For(registry);
        var copies = new List<Action>();
        void Sampled(Counter.Child child, int figure) => copies.Add(() => child.IncTo(Volatile.Read(ref _totals[figure])));

        var messages = factory.CreateCounter("sfu_media_datachannel_messages_total",
            "SCTP messages on data channels (DCEP control messages included), by direction: received from clients, sent to clients.", ["direction"]);
        var bytes = factory.CreateCounter("sfu_media_datachannel_bytes_total", "Bytes of those messages, by direction.", ["direction"]);
        Sampled(messages.WithLabels("received"), MessagesReceived);
        Sampled(bytes.WithLabels("received"), BytesReceived);
        Sampled(messages.WithLabels("sent"), MessagesSent);
        Sampled(bytes.WithLabels("sent"), BytesSent);
        Sampled(factory.CreateCounter("sfu_media_datachannel_retransmissions_total", "SCTP DATA chunks sent again.").WithLabels(), Retransmissions);
        var dropped = factory.CreateCounter("sfu_media_datachannel_dropped_total",
            "Data channel packets, chunks or messages dropped, by reason: the SCTP association's, unknown-channel, and the relay's "
            + "(channel-not-open, reliable-refused and unreliable-dropped when a subscriber's send buffer is full, too-large).", ["reason"]);
        for (var i = 0; i < DropLabels.Length; i++) Sampled(dropped.WithLabels(DropLabels[i]), FirstDrop + i);
        registry.AddBeforeCollectCallback(() =>
        {
            foreach (var copy in copies) copy();
        });
        _establishedAssociations = factory.CreateCounter("sfu_media_sctp_associations_established_total", "SCTP associations established with clients.");
    }

    internal void AssociationEstablished() => _establishedAssociations.Inc();

    internal long Total(int figure) => Volatile.Read(ref _totals[figure]);

    internal long Dropped(string label) => Total(FirstDrop + Array.IndexOf(DropLabels, label));

    internal long MessagesReceivedTotal => Total(MessagesReceived);

    internal long MessagesSentTotal => Total(MessagesSent);

    internal long BytesReceivedTotal => Total(BytesReceived);

    internal long BytesSentTotal => Total(BytesSent);

    // Interlocked: every media worker adds to these totals (data messages are far rarer than RTP packets).
    internal void Add(int figure, long delta) => Interlocked.Add(ref _totals[figure], delta);

    internal void RelayDropped(DataRelayDrop reason) => Interlocked.Increment(ref _totals[AssociationFigureCount + (int)reason]);

    /// <summary>One transport's figures now, in the order of the totals.</summary>
    internal static void Read(DataChannelTransport channels, Span<long> figures)
    {
        var counters = channels.Association.Counters;
        figures[MessagesReceived] = counters.MessagesReceived;
        figures[BytesReceived] = counters.BytesReceived;
        figures[MessagesSent] = counters.MessagesSent;
        figures[BytesSent] = counters.BytesSent;
        figures[Retransmissions] = counters.Retransmissions;
        for (var i = 0; i < AssociationDrops.Length; i++) figures[FirstDrop + i] = counters.Drops(AssociationDrops[i]);
        figures[FirstDrop + AssociationDrops.Length] = channels.UnknownChannelMessages;
    }
}

/// <summary>
/// What one transport's association has already added to <see cref="DataChannelMetrics"/>: each fold adds only the
/// change since the last. Worker thread only.
/// </summary>
internal sealed class DataChannelCounterFold
{
    private readonly long[] _folded = new long[DataChannelMetrics.AssociationFigureCount];
    private readonly long[] _now = new long[DataChannelMetrics.AssociationFigureCount];

    public void Fold(DataChannelTransport channels, DataChannelMetrics metrics)
    {
        DataChannelMetrics.Read(channels, _now);
        for (var i = 0; i < _now.Length; i++)
        {
            if (_now[i] == _folded[i]) continue;
            metrics.Add(i, _now[i] - _folded[i]);
            _folded[i] = _now[i];
        }
    }

    /// <summary>A new association starts from zero.</summary>
    public void Restart() => Array.Clear(_folded);
}
