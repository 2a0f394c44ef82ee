using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Sfu.Signaling.Diagnostics;
using Sfu.Signaling.Limits;
using Sfu.Signaling.Protocol;
using Sfu.Signaling.Rooms;
using Sfu.Signaling.Sessions;

namespace Sfu.Signaling.Connections;

/// <summary>
/// The protocol state of one socket: before <c>join</c>/<c>resume</c> it has no session; after, it feeds the
/// session's requests to handlers. It guards the server against this socket's misbehaviour (message rate,
/// malformed input) without touching any other session. The host calls it from one read loop, so calls never overlap.
/// </summary>
public sealed partial class SignalingConnection
{
    private readonly SignalingService _service;
    private readonly ISessionConnection _transport;
    private readonly string _remoteAddress;
    private readonly TokenBucket _messageRate;
    private readonly TokenBucket _strikes;
    private readonly ILogger _logger;
    private Session? _session;
    // Also set by the host's heartbeat thread (CloseForViolation), hence volatile.
    private volatile bool _closing;

    internal SignalingConnection(SignalingService service, ISessionConnection transport, string remoteAddress)
    {
        _service = service;
        _transport = transport;
        _remoteAddress = remoteAddress;
        var options = service.Options;
        _messageRate = new TokenBucket(service.Time, options.MessagesPerSecondPerSocket * 2, options.MessagesPerSecondPerSocket);
        _strikes = new TokenBucket(service.Time, options.ViolationBurst, ratePerSecond: 1);
        _logger = service.LoggerFactory.CreateLogger<SignalingConnection>();
    }

    /// <summary>The session this socket serves, once joined or resumed.</summary>
    public Session? Session => _session;

    /// <summary>True once the server has decided to close this socket; what it sends after that is ignored.</summary>
    public bool IsClosing => _closing;

    /// <summary>
    /// Closes the socket with 4000 for breaking a rule: too many invalid messages, or one the host enforces (no join
    /// within the first-message deadline). The session, if any, survives for a resume.
    /// </summary>
    public void CloseForViolation(string reason)
    {
        _closing = true;
        _session?.ConnectionLost(_transport);
        _transport.Close(CloseCodes.ProtocolViolation, reason);
    }

    private SignalingMetrics Metrics => _service.Metrics;

    public async Task OnTextMessageAsync(ReadOnlyMemory<byte> utf8)
    {
        if (_closing) return;
        _session?.Peer.MarkAlive();
        if (!_messageRate.TryTake())
        {
            Metrics.LimitHit("messages");
            Reject(RequestId.None, ErrorCode.RateLimited, "too many messages; slow down");
            return;
        }

        ClientRequest request;
        try
        {
            request = ClientRequest.Parse(utf8, out _);
        }
        catch (ProtocolException ex)
        {
            Metrics.MessageReceived("malformed");
            Reject(RequestId.None, ex.Code, ex.Message);
            return;
        }

        using (request)
        {
            Metrics.MessageReceived(SignalingMetrics.TypeLabel(request.Type));
            try
            {
                await DispatchAsync(request).ConfigureAwait(false);
            }
            catch (ProtocolException ex)
            {
                Answer(request.Id, ex.Code, ex.Message);
            }
            catch (Exception ex)
            {
                Log.RequestFailed(_logger, ex, request.Type, _session?.Id, _session?.Peer.Id, _session?.Peer.Room.Id);
                Answer(request.Id, ErrorCode.Internal, "the server failed to handle this request");
            }
        }
    }

    public void OnBinaryMessage()
    {
        if (_closing) return;
        _session?.Peer.MarkAlive();
        Metrics.MessageReceived("binary");
        Reject(RequestId.None, ErrorCode.BadRequest, "binary frames are not part of the protocol; send UTF-8 JSON text frames");
    }

    public void OnOversizedMessage()
    {
        if (_closing) return;
        _session?.Peer.MarkAlive();
        Metrics.LimitHit("message-size");
        Reject(RequestId.None, ErrorCode.TooLarge, $"messages are limited to {_service.Options.MaxMessageBytes} bytes");
    }

    /// <summary>
    /// The socket is gone. A normal close (1000) means the client left; anything else leaves the session
    /// waiting for a <c>resume</c>.
    /// </summary>
    public void OnClosed(int? closeCode)
    {
        var session = _session;
        if (session is null || !ReferenceEquals(session.Connection, _transport)) return;
        if (closeCode == CloseCodes.Normal) session.Peer.Room.Remove(session.Peer, PeerLeftReason.Leave);
        else session.ConnectionLost(_transport);
    }

    private async Task DispatchAsync(ClientRequest request)
    {
        if (_session is null)
        {
            switch (request.Type)
            {
                case "join": await JoinAsync(request).ConfigureAwait(false); return;
                case "resume": Resume(request); return;
                default:
                    throw _service.FindHandler(request.Type) is null
                        ? UnknownType(request.Type)
                        : new ProtocolException(ErrorCode.NotJoined, "send 'join' or 'resume' first");
            }
        }

        if (request.Type is "join" or "resume")
            throw new ProtocolException(ErrorCode.AlreadyJoined, "this socket already carries a session");
        var handler = _service.FindHandler(request.Type) ?? throw UnknownType(request.Type);
        // Requests that were already on the wire when the peer left (or timed out) act for nobody.
        if (_session.Peer.HasLeft) throw new ProtocolException(ErrorCode.NotJoined, "this peer has left the room; join again");
        if (!_session.TryBeginRequest(request.Id)) return;
        // No logging scope per request: this path runs for every ping. Log lines name their session, peer and
        // room themselves.
        await handler.HandleAsync(_session, request).ConfigureAwait(false);
    }

    private async Task JoinAsync(ClientRequest request)
    {
        var roomId = RequireName(request, "room", maxLength: 128);
        var name = request.OptionalString("name");
        if (name is { Length: > 128 }) throw new ProtocolException(ErrorCode.BadRequest, "field 'name' is longer than 128 characters");
        var autoSubscribe = request.OptionalBool("autoSubscribe") ?? true;
        var token = request.OptionalString("token");

        if (!_service.JoinLimiter.TryAcquire(_remoteAddress))
        {
            Metrics.LimitHit("joins");
            throw new ProtocolException(ErrorCode.RateLimited, "too many joins from this address; retry later");
        }

        Auth.JoinGrant grant;
        try
        {
            grant = await _service.Tokens.ValidateAsync(token, roomId).ConfigureAwait(false);
        }
        catch (ProtocolException ex) when (ex.Code == ErrorCode.Unauthorized)
        {
            AnswerThenClose(request.Id, ex, CloseCodes.Unauthorized);
            return;
        }

        var session = _service.Sessions.Create();
        var peerId = grant.Identity ?? "p-" + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(9));
        var peer = new Peer(peerId, grant.Name ?? name ?? peerId, grant.Identity, grant.Rights, autoSubscribe, session, _service.Time);
        session.Peer = peer;
        try
        {
            _service.Rooms.Join(roomId, peer, others =>
            {
                session.Attach(_transport);
                session.TryBeginRequest(request.Id);
                session.Respond(request.Id, JoinResult(session, peer, roomId, others));
            });
        }
        catch
        {
            session.End(CloseCodes.Normal, "join failed");
            throw;
        }
        _session = session;
        Log.Joined(_logger, session.Id, peer.Id, roomId, _remoteAddress);
    }

    private void Resume(ClientRequest request)
    {
        var sessionId = request.RequireString("sessionId");
        var resumeToken = request.RequireString("resumeToken");
        var lastSeq = request.RequireInt64("lastSeq");

        var session = _service.Sessions.Find(sessionId);
        if (session is null)
        {
            Metrics.Resume("expired");
            AnswerThenClose(request.Id, new ProtocolException(ErrorCode.SessionExpired, "no such session; it expired or never existed: join again"), CloseCodes.SessionExpired);
            return;
        }
        if (!session.VerifyResumeToken(resumeToken))
        {
            Metrics.Resume("bad-token");
            AnswerThenClose(request.Id, new ProtocolException(ErrorCode.BadResumeToken, "resume token does not match the session"), CloseCodes.Unauthorized);
            return;
        }
        if (!session.Peer.Room.TryKeepAlive(session.Peer))
        {
            Metrics.Resume("expired");
            AnswerThenClose(request.Id, new ProtocolException(ErrorCode.SessionExpired, "session expired: join again"), CloseCodes.SessionExpired);
            return;
        }

        var outcome = session.Resume(_transport, lastSeq, replayed =>
            ServerMessage.Response(request.Id, seq: null, WithIceServers(new JsonObject { ["peerId"] = session.Peer.Id, ["replayed"] = replayed }, session.Peer.Id)));
        switch (outcome.Status)
        {
            case ResumeStatus.Resumed:
                _session = session;
                Metrics.Resume("ok");
                Log.Resumed(_logger, session.Id, session.Peer.Id, outcome.Replayed, _remoteAddress);
                return;
            case ResumeStatus.BadSequence:
                Metrics.Resume("bad-request");
                throw new ProtocolException(ErrorCode.BadRequest, "field 'lastSeq' is beyond what this session has sent");
            case ResumeStatus.ReplayUnavailable:
                // The client cannot be brought up to date, so the session is of no more use: end it, and the
                // client joins afresh instead of leaving a ghost peer behind for the offline timeout.
                Metrics.Resume("replay-unavailable");
                session.Peer.Room.Remove(session.Peer, PeerLeftReason.Timeout);
                AnswerThenClose(request.Id, new ProtocolException(ErrorCode.SessionExpired, "messages this client missed are no longer kept: join again"), CloseCodes.SessionExpired);
                return;
            default:
                Metrics.Resume("expired");
                AnswerThenClose(request.Id, new ProtocolException(ErrorCode.SessionExpired, "session expired: join again"), CloseCodes.SessionExpired);
                return;
        }
    }

    private JsonObject JoinResult(Session session, Peer peer, string roomId, IReadOnlyList<Peer> others)
    {
        var options = _service.Options;
        return WithIceServers(new JsonObject
        {
            ["sessionId"] = session.Id,
            ["resumeToken"] = session.ResumeToken,
            ["peerId"] = peer.Id,
            ["room"] = new JsonObject
            {
                ["id"] = roomId,
                ["peers"] = new JsonArray([.. others.Select(p => (JsonNode)p.Describe())]),
            },
            ["timing"] = new JsonObject
            {
                ["pingIntervalMs"] = options.PingIntervalMs,
                ["interruptedAfterMs"] = options.InterruptedAfterMs,
                ["offlineAfterMs"] = options.OfflineAfterMs,
                ["emptyRoomCloseMs"] = options.EmptyRoomCloseMs,
            },
        }, peer.Id);
    }

    /// <summary>Adds TURN servers with fresh credentials when any are configured (PROTOCOL.md, "Extensions to v1").</summary>
    private JsonObject WithIceServers(JsonObject result, string peerId)
    {
        if (_service.Turn.IceServersFor(peerId) is { } servers) result["iceServers"] = servers;
        return result;
    }

    private static string RequireName(ClientRequest request, string field, int maxLength)
    {
        var value = request.RequireString(field);
        if (value.Length == 0 || value.Length > maxLength || value.Any(char.IsControl))
            throw new ProtocolException(ErrorCode.BadRequest, $"field '{field}' must be 1 to {maxLength} printable characters");
        return value;
    }

    private static ProtocolException UnknownType(string type) =>
        new(ErrorCode.UnknownType, $"unknown request type '{(type.Length > 64 ? type[..64] : type)}'");

    /// <summary>
    /// An error caused by what the client sent, not by the request's meaning: answered, and counted as a strike.
    /// A socket that runs out of strikes is closed with 4000; its session (if any) survives for a resume.
    /// </summary>
    private void Reject(RequestId id, ErrorCode code, string message)
    {
        Answer(id, code, message);
        if (_strikes.TryTake()) return;
        Metrics.LimitHit("violations");
        Metrics.SocketClosedByServer(CloseCodes.ProtocolViolation);
        Log.ClosedForViolations(_logger, _transport.RemoteEndpoint, _session?.Id);
        CloseForViolation("too many invalid messages");
    }

    /// <summary>Answers through the session when there is one (numbered, replayable), else on this socket only.</summary>
    private void Answer(RequestId id, ErrorCode code, string message)
    {
        if (_session is { } session)
        {
            session.Fail(id, code, message);
            return;
        }
        Metrics.ErrorSent(code);
        Metrics.MessageSent("error");
        _transport.TrySend(ServerMessage.Error(id, seq: null, code, message));
    }

    private void AnswerThenClose(RequestId id, ProtocolException error, int closeCode)
    {
        Answer(id, error.Code, error.Message);
        _closing = true;
        Metrics.SocketClosedByServer(closeCode);
        _transport.Close(closeCode, error.Code.ToWire());
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Session {SessionId} joined as peer {PeerId} in room {RoomId} from {RemoteAddress}")]
        public static partial void Joined(ILogger logger, string sessionId, string peerId, string roomId, string remoteAddress);

        [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Session {SessionId} (peer {PeerId}) resumed from {RemoteAddress}, {Replayed} messages replayed")]
        public static partial void Resumed(ILogger logger, string sessionId, string peerId, int replayed, string remoteAddress);

        [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Closed socket from {RemoteEndpoint} (session {SessionId}) for repeated invalid messages")]
        public static partial void ClosedForViolations(ILogger logger, string remoteEndpoint, string? sessionId);

        [LoggerMessage(EventId = 203, Level = LogLevel.Error, Message = "Request {RequestType} of session {SessionId} (peer {PeerId} in room {RoomId}) failed")]
        public static partial void RequestFailed(ILogger logger, Exception exception, string requestType, string? sessionId, string? peerId, string? roomId);
    }
}
