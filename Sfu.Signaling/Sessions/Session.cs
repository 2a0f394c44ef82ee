using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Sfu.Signaling.Diagnostics;
using Sfu.Signaling.Protocol;
using Sfu.Signaling.Rooms;

namespace Sfu.Signaling.Sessions;

/// <summary>
/// A peer's signaling stream, which outlives sockets. It numbers every outgoing message (<c>seq</c>), keeps
/// the unacknowledged ones for replay, remembers answered request ids, and writes to exactly one socket: the
/// one in its connection slot. <see cref="Resume"/> swaps that slot atomically, so after a reconnect every
/// response and event goes to the new socket and none to the old one (the Janus bug this project exists for).
/// </summary>
public sealed class Session : IPeerOutbox
{
    /// <summary>
    /// How many of the latest request ids are recognised when repeated: a client repeats only the requests that were
    /// in flight when its socket dropped, a handful at most.
    /// </summary>
    private const int RepeatWindow = 32;

    private readonly object _gate = new();
    private readonly byte[] _resumeToken;
    private readonly ReplayLog _replayLog;
    private readonly ResponseCache _responses;
    private readonly SignalingMetrics _metrics;
    private readonly Action<Session> _onEnded;
    private ISessionConnection? _connection;
    private long _seq;
    private bool _ended;

    internal Session(string id, byte[] resumeToken, int replayCapacity, long replayMaxBytes, SignalingMetrics metrics, Action<Session> onEnded)
    {
        _onEnded = onEnded;
        Id = id;
        _resumeToken = resumeToken;
        _replayLog = new ReplayLog(replayCapacity, replayMaxBytes);
        _responses = new ResponseCache(capacity: RepeatWindow);
        _metrics = metrics;
    }

    public string Id { get; }

    /// <summary>The secret that proves a <c>resume</c> comes from this session's client (base64url).</summary>
    public string ResumeToken => Base64Url.EncodeToString(_resumeToken);

    /// <summary>The room member this session speaks for; set once when the join is admitted.</summary>
    public Peer Peer { get; internal set; } = null!;

    /// <summary>The socket the session writes to now, or null while the client is away.</summary>
    public ISessionConnection? Connection
    {
        get { lock (_gate) return _connection; }
    }

    public bool VerifyResumeToken(string candidate)
    {
        // TryDecodeFromChars throws on characters outside the alphabet: a client's typo is a wrong token, not a fault.
        if (!Base64Url.IsValid(candidate, out var decodedLength) || decodedLength != _resumeToken.Length) return false;
        Span<byte> decoded = stackalloc byte[decodedLength];
        return Base64Url.TryDecodeFromChars(candidate, decoded, out var length)
            && CryptographicOperations.FixedTimeEquals(decoded[..length], _resumeToken);
    }

    internal void Attach(ISessionConnection connection)
    {
        lock (_gate) _connection = connection;
    }

    /// <summary>
    /// Decides whether a request is new. A repeated id is not executed again: its stored response is sent
    /// again with its original <c>seq</c>, or, while it is still running, nothing is sent (its response will come).
    /// </summary>
    public bool TryBeginRequest(RequestId id)
    {
        lock (_gate)
        {
            switch (_responses.Begin(id, out var stored))
            {
                case ResponseCache.Lookup.New:
                    return true;
                case ResponseCache.Lookup.Answered:
                    _connection?.TrySend(stored.ToMessage(id));
                    _metrics.MessageSent("response");
                    return false;
                default:
                    return false;
            }
        }
    }

    public void Respond(RequestId id, JsonObject? result) =>
        Send((id, result), static (seq, state) => ServerMessage.Response(state.id, seq, state.result), "response", id, bareOk: result is null);

    public void Fail(RequestId id, ErrorCode code, string message)
    {
        _metrics.ErrorSent(code);
        Send((id, code, message), static (seq, state) => ServerMessage.Error(state.id, seq, state.code, state.message), "error", id, bareOk: false);
    }

    public void Emit(string eventName, JsonObject? fields) =>
        Send((eventName, fields), static (seq, state) => ServerMessage.Event(seq, state.eventName, state.fields), eventName, RequestId.None, bareOk: false);

    /// <summary>The client has every message up to <paramref name="lastSeq"/>; they need not be kept for replay.</summary>
    public void Acknowledge(long lastSeq)
    {
        lock (_gate) _replayLog.AcknowledgeUpTo(Math.Min(lastSeq, _seq));
    }

    /// <summary>
    /// Moves the session to <paramref name="connection"/>: queues every message after <paramref name="lastSeq"/>
    /// on it, in order, before any live message can follow, and closes the previous socket with 4001.
    /// </summary>
    public ResumeResult Resume(ISessionConnection connection, long lastSeq, Func<int, byte[]> buildResponse)
    {
        ISessionConnection? previous;
        int replayed;
        lock (_gate)
        {
            if (_ended) return ResumeResult.Expired;
            if (lastSeq < 0 || lastSeq > _seq) return ResumeResult.BadSequence;
            var missed = new List<byte[]>();
            if (!_replayLog.TryGetAfter(lastSeq, missed)) return ResumeResult.ReplayUnavailable;

            previous = _connection;
            _connection = connection;
            replayed = missed.Count;
            connection.TrySend(buildResponse(replayed));
            connection.SendReplay(missed);
            _replayLog.AcknowledgeUpTo(lastSeq);
        }
        if (previous is not null && !ReferenceEquals(previous, connection)) previous.Supersede();
        _metrics.Replayed(replayed);
        return ResumeResult.Resumed(replayed);
    }

    /// <summary>The socket went away without <c>leave</c>; the session waits for a resume.</summary>
    public void ConnectionLost(ISessionConnection connection)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_connection, connection)) _connection = null;
        }
    }

    /// <summary>Ends the session for good: the socket, if any, is closed with <paramref name="closeCode"/> after what is queued.</summary>
    public void End(int closeCode, string reason)
    {
        ISessionConnection? connection;
        lock (_gate)
        {
            if (_ended) return;
            _ended = true;
            connection = _connection;
            _connection = null;
        }
        connection?.Close(closeCode, reason);
        _onEnded(this);
    }

    /// <summary>
    /// Numbers, logs and queues one message; <paramref name="build"/> writes it once its seq is taken. A response
    /// is remembered for its request id, as bytes unless it is a bare ok (<paramref name="bareOk"/>).
    /// </summary>
    private void Send<TState>(TState state, Func<long, TState, byte[]> build, string kind, RequestId answering, bool bareOk)
    {
        lock (_gate)
        {
            if (_ended) return;
            var seq = ++_seq;
            var message = build(seq, state);
            _replayLog.Append(seq, message);
            if (answering.IsPresent) _responses.Complete(answering, new StoredResponse(seq, bareOk ? null : message));
            _connection?.TrySend(message);
        }
        _metrics.MessageSent(kind);
    }
}

/// <summary>The outcome of <see cref="Session.Resume"/>.</summary>
public readonly record struct ResumeResult(ResumeStatus Status, int Replayed)
{
    public static ResumeResult Expired => new(ResumeStatus.Expired, 0);
    public static ResumeResult BadSequence => new(ResumeStatus.BadSequence, 0);
    public static ResumeResult ReplayUnavailable => new(ResumeStatus.ReplayUnavailable, 0);
    public static ResumeResult Resumed(int replayed) => new(ResumeStatus.Resumed, replayed);
}

public enum ResumeStatus { Resumed, Expired, BadSequence, ReplayUnavailable }
