using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sfu.Signaling.Auth;
using Sfu.Signaling.Diagnostics;
using Sfu.Signaling.Limits;
using Sfu.Signaling.Rooms;
using Sfu.Signaling.Sessions;
using Sfu.Signaling.Turn;

namespace Sfu.Signaling.Connections;

/// <summary>
/// The signaling core as a host sees it: hand it each new socket (as an <see cref="ISessionConnection"/>) and
/// feed the returned <see cref="SignalingConnection"/> what the socket receives.
/// </summary>
public sealed class SignalingService
{
    private readonly Dictionary<string, ISessionRequestHandler> _handlers;

    public SignalingService(
        IOptions<SignalingOptions> options,
        SessionRegistry sessions,
        RoomRegistry rooms,
        JoinTokenValidator tokens,
        JoinRateLimiter joinLimiter,
        SignalingMetrics metrics,
        TurnCredentials turn,
        [FromKeyedServices(SignalingServiceCollectionExtensions.ClockKey)] TimeProvider time,
        IEnumerable<ISessionRequestHandler> handlers,
        ILoggerFactory loggerFactory)
    {
        Options = options.Value;
        Sessions = sessions;
        Rooms = rooms;
        Tokens = tokens;
        JoinLimiter = joinLimiter;
        Metrics = metrics;
        Turn = turn;
        Time = time;
        LoggerFactory = loggerFactory;
        _handlers = handlers.ToDictionary(h => h.Type, StringComparer.Ordinal);
    }

    internal SignalingOptions Options { get; }
    internal SessionRegistry Sessions { get; }
    public RoomRegistry Rooms { get; }
    internal JoinTokenValidator Tokens { get; }
    internal JoinRateLimiter JoinLimiter { get; }
    internal SignalingMetrics Metrics { get; }
    internal TurnCredentials Turn { get; }
    internal TimeProvider Time { get; }
    internal ILoggerFactory LoggerFactory { get; }

    /// <summary>False once shutdown began: new sockets are turned away with 1001.</summary>
    public bool IsAccepting { get; private set; } = true;

    public SignalingConnection Accept(ISessionConnection connection, string remoteAddress) =>
        new(this, connection, remoteAddress);

    internal ISessionRequestHandler? FindHandler(string type) => _handlers.GetValueOrDefault(type);

    /// <summary>Stops joins; the host then closes every socket with 1001 so clients reconnect elsewhere.</summary>
    public void BeginShutdown()
    {
        IsAccepting = false;
        Rooms.StopAdmitting();
    }
}
