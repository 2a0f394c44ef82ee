using Microsoft.Extensions.Options;
using Sfu.Signaling.Protocol;
using Sfu.Signaling.Rooms;
using Sfu.Signaling.Sessions;

namespace Sfu.Signaling.Connections;

/// <summary><c>ping</c>: keep-alive, and the client's acknowledgement of what it has received.</summary>
internal sealed class PingHandler : ISessionRequestHandler
{
    public string Type => "ping";

    public ValueTask HandleAsync(Session session, ClientRequest request)
    {
        if (request.OptionalInt64("lastSeq") is { } lastSeq) session.Acknowledge(lastSeq);
        session.Respond(request.Id, null);
        return ValueTask.CompletedTask;
    }
}

/// <summary><c>leave</c>: answered, then the peer is removed and the socket closed with 1000.</summary>
internal sealed class LeaveHandler : ISessionRequestHandler
{
    public string Type => "leave";

    public ValueTask HandleAsync(Session session, ClientRequest request)
    {
        session.Respond(request.Id, null);
        session.Peer.Room.Remove(session.Peer, PeerLeftReason.Leave);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// <c>simulate</c>: fault injection for tests and client SDK development, refused unless the operator enabled it.
/// Media scenarios are served by the media plane's fault injector when one is registered.
/// </summary>
internal sealed class SimulateHandler(IOptions<SignalingOptions> options, IEnumerable<IMediaFaultInjector> mediaFaults) : ISessionRequestHandler
{
    private readonly IMediaFaultInjector? _mediaFaults = mediaFaults.FirstOrDefault();

    public string Type => "simulate";

    public async ValueTask HandleAsync(Session session, ClientRequest request)
    {
        if (!options.Value.AllowSimulate)
            throw new ProtocolException(ErrorCode.Forbidden, "fault injection is disabled on this server (Sfu:Signaling:AllowSimulate)");
        var scenario = request.RequireString("scenario");
        var duration = TimeSpan.FromMilliseconds(request.OptionalInt64("durationMs") ?? 5000);
        switch (scenario)
        {
            case "drop-signal":
                session.Respond(request.Id, null);
                session.Connection?.Abort();
                break;
            case "pause-media" or "forget-path":
                if (_mediaFaults is null)
                    throw new ProtocolException(ErrorCode.NotFound, $"scenario '{scenario}' needs the media plane, which is not running");
                await _mediaFaults.SimulateAsync(session.Peer, scenario, duration).ConfigureAwait(false);
                session.Respond(request.Id, null);
                break;
            default:
                throw new ProtocolException(ErrorCode.BadRequest, "field 'scenario' must be drop-signal, pause-media or forget-path");
        }
    }
}

/// <summary>The media plane's side of <c>simulate</c>.</summary>
public interface IMediaFaultInjector
{
    Task SimulateAsync(Peer peer, string scenario, TimeSpan duration);
}
