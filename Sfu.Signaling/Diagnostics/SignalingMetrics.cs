using System.Diagnostics.Metrics;
using Sfu.Signaling.Protocol;

namespace Sfu.Signaling.Diagnostics;

/// <summary>
/// Every control-plane figure an operator graphs, as <see cref="System.Diagnostics.Metrics"/> instruments
/// of one meter. Instruments are created once; callers pass small fixed tag values.
/// </summary>
public sealed class SignalingMetrics
{
    public const string MeterName = "Sfu.Signaling";

    private readonly UpDownCounter<long> _rooms;
    private readonly UpDownCounter<long> _peers;
    private readonly UpDownCounter<long> _sessions;
    private readonly UpDownCounter<long> _sockets;
    private readonly Counter<long> _messagesReceived;
    private readonly Counter<long> _messagesSent;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _resumes;
    private readonly Counter<long> _replayedMessages;
    private readonly Counter<long> _peersLeft;
    private readonly Counter<long> _roomsClosed;
    private readonly Counter<long> _limitRejections;
    private readonly Counter<long> _socketsClosed;
    private readonly Histogram<double> _outages;

    public SignalingMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _rooms = meter.CreateUpDownCounter<long>("sfu.rooms", description: "Open rooms.");
        _peers = meter.CreateUpDownCounter<long>("sfu.peers", description: "Peers in rooms, interrupted ones included.");
        _sessions = meter.CreateUpDownCounter<long>("sfu.sessions", description: "Live signaling sessions, with or without a socket.");
        _sockets = meter.CreateUpDownCounter<long>("sfu.sockets", description: "Open signaling WebSockets.");
        _messagesReceived = meter.CreateCounter<long>("sfu.messages.received", description: "Client messages received, by request type.");
        _messagesSent = meter.CreateCounter<long>("sfu.messages.sent", description: "Server messages sent, by kind (response, error) or event name.");
        _errors = meter.CreateCounter<long>("sfu.errors", description: "Error responses, by error code.");
        _resumes = meter.CreateCounter<long>("sfu.resumes", description: "Resume attempts, by result.");
        _replayedMessages = meter.CreateCounter<long>("sfu.replayed.messages", description: "Messages replayed to resumed sessions.");
        _peersLeft = meter.CreateCounter<long>("sfu.peers.left", description: "Peers removed from rooms, by reason (leave, timeout, kicked, replaced, room-closed).");
        _roomsClosed = meter.CreateCounter<long>("sfu.rooms.closed", description: "Rooms closed, by reason (empty, admin).");
        _limitRejections = meter.CreateCounter<long>("sfu.limit.rejections", description: "Requests or sockets refused by a protective limit, by limit.");
        _socketsClosed = meter.CreateCounter<long>("sfu.sockets.closed", description: "Signaling sockets closed by the server, by close code.");
        _outages = meter.CreateHistogram("sfu.peer.outage", unit: "s",
            description: "How long an interrupted peer was silent before the server heard from it again.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [4, 5, 6, 8, 10, 12, 15, 20] });
    }

    public void RoomOpened() => _rooms.Add(1);

    public void RoomClosed(string reason)
    {
        _rooms.Add(-1);
        _roomsClosed.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }

    public void PeerAdded() => _peers.Add(1);

    public void PeerRemoved(string reason)
    {
        _peers.Add(-1);
        _peersLeft.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }

    public void SessionStarted() => _sessions.Add(1);

    public void SessionEnded() => _sessions.Add(-1);

    public void SocketOpened() => _sockets.Add(1);

    public void SocketClosed() => _sockets.Add(-1);

    public void SocketClosedByServer(int code) => _socketsClosed.Add(1, new KeyValuePair<string, object?>("code", code));

    public void MessageReceived(string type) => _messagesReceived.Add(1, new KeyValuePair<string, object?>("type", type));

    public void MessageSent(string kind) => _messagesSent.Add(1, new KeyValuePair<string, object?>("type", kind));

    public void ErrorSent(ErrorCode code) => _errors.Add(1, new KeyValuePair<string, object?>("code", code.ToWire()));

    public void Resume(string result) => _resumes.Add(1, new KeyValuePair<string, object?>("result", result));

    public void Replayed(int count)
    {
        if (count > 0) _replayedMessages.Add(count);
    }

    public void PeerRecovered(TimeSpan outage) => _outages.Record(outage.TotalSeconds);

    public void LimitHit(string limit) => _limitRejections.Add(1, new KeyValuePair<string, object?>("limit", limit));

    /// <summary>Request types outside the protocol are counted under one label, so a client cannot grow the series.</summary>
    public static string TypeLabel(string type) => RequestTypes.IsKnown(type) ? type : "unknown";
}
