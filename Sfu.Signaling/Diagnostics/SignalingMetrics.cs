using System.Globalization;
using Prometheus;
using Sfu.Media.Diagnostics;
using Sfu.Signaling.Protocol;
using Sfu.Signaling.Rooms;

namespace Sfu.Signaling.Diagnostics;

/// <summary>
/// Every control-plane figure an operator graphs, as Prometheus metrics in the server's registry. Each labelled
/// counter is created with every label value it can take, so every series exists, at 0, from start-up; counting
/// a message allocates nothing.
/// </summary>
public sealed class SignalingMetrics
{
    /// <summary>Server-to-client message kinds: the two responses and every event name.</summary>
    private static readonly string[] SentKinds =
    [
        "response", "error", "peer-joined", "peer-left", "peer-state", "track-published", "track-unpublished", "subscribe-offer",
        "room-closed", "kicked",
    ];

    private readonly Gauge _rooms;
    private readonly Gauge _peers;
    private readonly Gauge _sessions;
    private readonly Gauge _sockets;
    private readonly LabelledCounter _messagesReceived;
    private readonly LabelledCounter _messagesSent;
    private readonly LabelledCounter _errors;
    private readonly LabelledCounter _resumes;
    private readonly Counter _replayedMessages;
    private readonly LabelledCounter _peersLeft;
    private readonly LabelledCounter _roomsClosed;
    private readonly LabelledCounter _limitRejections;
    private readonly LabelledCounter _socketsClosed;
    private readonly Histogram _outages;

    public SignalingMetrics(CollectorRegistry registry)
    {
        var factory = MetricFactories.For(registry);
        _rooms = factory.CreateGauge("sfu_rooms", "Open rooms.");
        _peers = factory.CreateGauge("sfu_peers", "Peers in rooms, interrupted ones included.");
        _sessions = factory.CreateGauge("sfu_sessions", "Live signaling sessions, with or without a socket.");
        _sockets = factory.CreateGauge("sfu_sockets", "Open signaling WebSockets.");
        _messagesReceived = new LabelledCounter(factory, "sfu_messages_received_total", "Client messages received, by request type.", "type",
            [.. RequestTypes.All, "malformed", "binary", "unknown"]);
        _messagesSent = new LabelledCounter(factory, "sfu_messages_sent_total", "Server messages sent, by kind (response, error) or event name.", "type", SentKinds);
        _errors = new LabelledCounter(factory, "sfu_errors_total", "Error responses, by error code.", "code",
            Enum.GetValues<ErrorCode>().Select(c => c.ToWire()));
        _resumes = new LabelledCounter(factory, "sfu_resumes_total", "Resume attempts, by result.", "result",
            ["ok", "expired", "bad-token", "bad-request", "replay-unavailable"]);
        _replayedMessages = factory.CreateCounter("sfu_replayed_messages_total", "Messages replayed to resumed sessions.");
        _peersLeft = new LabelledCounter(factory, "sfu_peers_left_total", "Peers removed from rooms, by reason (leave, timeout, kicked, replaced, room-closed).", "reason",
            Enum.GetValues<PeerLeftReason>().Select(r => r.ToWire()));
        _roomsClosed = new LabelledCounter(factory, "sfu_rooms_closed_total", "Rooms closed, by reason (empty, admin).", "reason", ["empty", "admin"]);
        _limitRejections = new LabelledCounter(factory, "sfu_limit_rejections_total", "Requests or sockets refused by a protective limit, by limit.", "limit",
            ["joins", "messages", "message-size", "rooms", "violations", "sockets", "first-message", "send-timeout", "tracks"]);
        _socketsClosed = new LabelledCounter(factory, "sfu_sockets_closed_total", "Signaling sockets closed by the server, by close code.", "code",
            [.. new[] { CloseCodes.ProtocolViolation, CloseCodes.Unauthorized, CloseCodes.SessionExpired }.Select(CodeLabel)]);
        _outages = factory.CreateHistogram("sfu_peer_outage_seconds", "How long an interrupted peer was silent before the server heard from it again.",
            new HistogramConfiguration { Buckets = [4, 5, 6, 8, 10, 12, 15, 20] });
    }

    public void RoomOpened() => _rooms.Inc();

    public void RoomClosed(string reason)
    {
        _rooms.Dec();
        _roomsClosed.Inc(reason);
    }

    public void PeerAdded() => _peers.Inc();

    public void PeerRemoved(string reason)
    {
        _peers.Dec();
        _peersLeft.Inc(reason);
    }

    public void SessionStarted() => _sessions.Inc();

    public void SessionEnded() => _sessions.Dec();

    public void SocketOpened() => _sockets.Inc();

    public void SocketClosed() => _sockets.Dec();

    public void SocketClosedByServer(int code) => _socketsClosed.Inc(CodeLabel(code));

    public void MessageReceived(string type) => _messagesReceived.Inc(type);

    public void MessageSent(string kind) => _messagesSent.Inc(kind);

    public void ErrorSent(ErrorCode code) => _errors.Inc(code.ToWire());

    public void Resume(string result) => _resumes.Inc(result);

    public void Replayed(int count)
    {
        if (count > 0) _replayedMessages.Inc(count);
    }

    public void PeerRecovered(TimeSpan outage) => _outages.Observe(outage.TotalSeconds);

    public void LimitHit(string limit) => _limitRejections.Inc(limit);

    /// <summary>Request types outside the protocol are counted under one label, so a client cannot grow the series.</summary>
    public static string TypeLabel(string type) => RequestTypes.IsKnown(type) ? type : "unknown";

    private static string CodeLabel(int code) => code.ToString(CultureInfo.InvariantCulture);
}
