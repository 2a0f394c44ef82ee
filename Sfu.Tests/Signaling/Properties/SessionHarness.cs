using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Sfu.Signaling.Diagnostics;
using Sfu.Signaling.Protocol;
using Sfu.Signaling.Sessions;

namespace Sfu.Tests.Signaling.Properties;

/// <summary>
/// Runs a schedule of <see cref="SessionStep"/>s against a real <see cref="Session"/> and a model of what PROTOCOL.md
/// promises, and throws <see cref="PropertyViolation"/> at the first step where they differ: the client accepts
/// every seq exactly once, gapless from 1, with the content the model expects at that seq; every copy of a seq it
/// sees again (a replay, a repeated answer) is byte-identical to the first; a request id among the session's last
/// 32 is never executed again; a resume succeeds exactly when the log still holds every message after lastSeq; and in
/// the end every request has its response.
/// </summary>
internal sealed class SessionHarness
{
    /// <summary>ResponseCache's window in Session: the last 32 distinct request ids.</summary>
    private const int RepeatWindow = 32;

    private static readonly SignalingMetrics Metrics =
        new(Prometheus.Metrics.NewCustomRegistry());

    private readonly int _replayCapacity;
    private readonly Session _session;

    // The server as the model sees it.
    private readonly Dictionary<long, string> _expectedAtSeq = [];
    private readonly List<long> _distinctIdsBegun = [];
    private readonly Dictionary<long, int> _executions = [];
    private readonly Queue<long> _inFlight = new();
    private long _serverSeq;
    private long _events;

    // The client.
    private readonly Dictionary<long, byte[]> _received = [];
    private readonly Dictionary<long, byte[]> _firstResponse = [];
    private readonly List<long> _sentIds = [];
    private readonly SortedSet<long> _awaitingResponse = [];
    private LoopbackConnection? _socket;
    private int _sockets;
    private long _highest;
    private long _acknowledged;
    private long? _expectedReplayed;
    private long _nextId;
    private bool _mustRejoin;

    public SessionHarness(int replayCapacity)
    {
        _replayCapacity = replayCapacity;
        _session = new Session("property", new byte[32], replayCapacity, replayMaxBytes: 1 << 20, Metrics, onEnded: _ => { });
        _socket = new LoopbackConnection(++_sockets);
        _session.Attach(_socket);
    }

    public void Run(IEnumerable<SessionStep> steps)
    {
        foreach (var step in steps)
        {
            if (_mustRejoin) return;
            Apply(step);
        }

        // The end: every deferred request is answered, the client comes back if it is away and reads everything.
        while (_inFlight.Count > 0) Answer(_inFlight.Dequeue());
        if (_socket is null) Apply(new Resume(0));
        if (_mustRejoin) return;
        ReadAll();
        Require(_awaitingResponse.Count == 0, $"no response ever reached the client for request(s) {string.Join(", ", _awaitingResponse)}");
        Require(_highest == _serverSeq, $"the client has seq up to {_highest}, the session sent {_serverSeq}");
    }

    private void Apply(SessionStep step)
    {
        switch (step)
        {
            case NewRequest request when _socket is not null:
                Send(++_nextId, request.Deferred);
                break;
            case RepeatRequest repeat when _socket is not null && _sentIds.Count >= repeat.Back:
                Send(_sentIds[^repeat.Back], deferred: false);
                break;
            case FinishRequest when _inFlight.Count > 0:
                Answer(_inFlight.Dequeue());
                break;
            case ServerEvent:
                _events++;
                _expectedAtSeq[++_serverSeq] = $"event {_events}";
                _session.Emit("tick", new JsonObject { ["k"] = _events });
                break;
            case Read read when _socket is not null:
                for (var i = 0; i < read.Count && _socket.Unread.Count > 0; i++) Receive(_socket.Unread.Dequeue());
                break;
            case Ping when _socket is not null:
                _session.Acknowledge(_highest);
                _acknowledged = _highest;
                Send(++_nextId, deferred: false);
                break;
            case DropSocket when _socket is not null:
                _socket.Vanish();
                _session.ConnectionLost(_socket);
                _socket = null;
                break;
            case Resume resume:
                ResumeOnNewSocket(Math.Max(_acknowledged, _highest - resume.Back));
                break;
        }
    }

    private void ResumeOnNewSocket(long lastSeq)
    {
        var previous = _socket;
        previous?.Unread.Clear(); // the client gave up on it: what it did not read there is not read later
        var socket = new LoopbackConnection(++_sockets);
        _expectedReplayed = _serverSeq - lastSeq;
        var result = _session.Resume(socket, lastSeq,
            replayed => Encoding.UTF8.GetBytes($$"""{"type":"response","id":"resume","ok":true,"replayed":{{replayed}}}"""));
        var kept = _serverSeq - lastSeq <= _replayCapacity;
        Require(result.Status == (kept ? ResumeStatus.Resumed : ResumeStatus.ReplayUnavailable),
            $"resume with lastSeq {lastSeq} of {_serverSeq} (log of {_replayCapacity}) gave {result.Status}, expected {(kept ? "Resumed" : "ReplayUnavailable")}");
        if (!kept)
        {
            _mustRejoin = true;
            return;
        }

        if (previous is not null) Require(!previous.IsOpen, "the socket the session left is still open");

        _socket = socket;
        _acknowledged = lastSeq; // resume's lastSeq tells the server what the client has, as a ping does
        // A client does not know which of its requests arrived: it repeats every one it has no response to.
        foreach (var id in _awaitingResponse.ToList()) Send(id, deferred: false);
    }

    private void Send(long id, bool deferred)
    {
        _sentIds.Add(id);
        _awaitingResponse.Add(id);
        var position = _distinctIdsBegun.LastIndexOf(id);
        var remembered = position >= 0 && position >= _distinctIdsBegun.Count - RepeatWindow;
        var executed = _session.TryBeginRequest(RequestId.FromNumber(id));
        Require(executed != remembered, remembered
            ? $"request {id} was executed again although it is among the last {RepeatWindow} ids"
            : $"request {id} was not executed although it is new or left the window");
        if (!executed) return;
        _distinctIdsBegun.Add(id);
        _executions[id] = _executions.GetValueOrDefault(id) + 1;
        if (deferred) _inFlight.Enqueue(id);
        else Answer(id);
    }

    private void Answer(long id)
    {
        _expectedAtSeq[++_serverSeq] = $"response {id}";
        // Odd ids get a result object (stored as bytes), even ones a bare ok (stored as its seq and rebuilt).
        _session.Respond(RequestId.FromNumber(id), id % 2 == 1 ? new JsonObject { ["echo"] = id } : null);
    }

    private void ReadAll()
    {
        while (_socket!.Unread.Count > 0) Receive(_socket.Unread.Dequeue());
    }

    private void Receive(byte[] bytes)
    {
        using var document = JsonDocument.Parse(bytes);
        var message = document.RootElement;
        if (!message.TryGetProperty("seq", out var seqElement))
        {
            var replayed = message.GetProperty("replayed").GetInt64();
            Require(replayed == _expectedReplayed, $"the resume response says {replayed} replayed, the client missed {_expectedReplayed}");
            return;
        }

        var seq = seqElement.GetInt64();
        var isResponse = message.GetProperty("type").GetString() == "response";
        if (seq <= _highest)
        {
            Require(_received[seq].AsSpan().SequenceEqual(bytes), $"seq {seq} arrived again with different bytes");
        }
        else
        {
            Require(seq == _highest + 1, $"seq {seq} arrived after {_highest}: {seq - _highest - 1} lost");
            var content = isResponse ? $"response {message.GetProperty("id").GetInt64()}" : $"event {message.GetProperty("k").GetInt64()}";
            Require(content == _expectedAtSeq[seq], $"seq {seq} is {content}, expected {_expectedAtSeq[seq]}");
            _received[seq] = bytes;
            _highest = seq;
        }

        if (!isResponse) return;
        var id = message.GetProperty("id").GetInt64();
        _awaitingResponse.Remove(id);
        if (_executions[id] > 1) return; // executed again after leaving the window: a different answer is allowed
        if (_firstResponse.TryGetValue(id, out var first))
            Require(first.AsSpan().SequenceEqual(bytes), $"request {id} was answered twice with different bytes");
        else
            _firstResponse[id] = bytes;
    }

    private static void Require(bool condition, string violation)
    {
        if (!condition) throw new PropertyViolation(violation);
    }
}

/// <summary>A promise of PROTOCOL.md that a generated schedule broke; the message says which.</summary>
public sealed class PropertyViolation(string message) : Exception(message);
