using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sfu.Signaling.Auth;
using Sfu.Signaling.Connections;
using Sfu.Signaling.Diagnostics;
using Sfu.Media;
using Sfu.Signaling.Limits;
using Sfu.Signaling.MediaSessions;
using Sfu.Signaling.Rooms;
using Sfu.Signaling.Sessions;
using Sfu.Signaling.Turn;

namespace Sfu.Signaling;

public static class SignalingServiceCollectionExtensions
{
    /// <summary>
    /// The key of the <see cref="TimeProvider"/> that drives liveness, limits and token expiry. Keyed so that
    /// tests can put a manual clock under the signaling core without also giving it to the web host.
    /// </summary>
    public const string ClockKey = "sfu-clock";

    public static IServiceCollection AddSfuSignaling(this IServiceCollection services, IConfiguration configuration, TimeProvider time)
    {
        // One registry per server, not prometheus-net's static default: every server in a process (tests run
        // several) counts its own.
        services.TryAddSingleton(_ => Prometheus.Metrics.NewCustomRegistry());
        services.Configure<SignalingOptions>(configuration.GetSection(SignalingOptions.SectionName));
        // Checked at start-up: a secret too short for HS256 would otherwise make every join fail, with no word why.
        services.AddOptions<AuthOptions>()
            .Bind(configuration.GetSection(AuthOptions.SectionName))
            .Validate(
                o => string.IsNullOrEmpty(o.TokenSecret) || System.Text.Encoding.UTF8.GetByteCount(o.TokenSecret) >= JoinTokenValidator.MinimumSecretBytes,
                $"Sfu:Auth:TokenSecret must be at least {JoinTokenValidator.MinimumSecretBytes} bytes (256 bits) for HS256, or empty for anonymous joins")
            .ValidateOnStart();
        services.AddOptions<TurnOptions>()
            .Bind(configuration.GetSection(TurnOptions.SectionName))
            .Validate(TurnCredentials.IsValid,
                "Sfu:Turn:Urls needs Sfu:Turn:Secret (coturn's static-auth-secret), URLs starting with turn:, turns: or stun:, and a positive CredentialTtlSeconds")
            .ValidateOnStart();
        services.AddSingleton(sp => new TurnCredentials(sp.GetRequiredService<IOptions<TurnOptions>>(), time));
        services.AddKeyedSingleton(ClockKey, time);
        services.AddSingleton(sp => LivenessPolicy.From(sp.GetRequiredService<IOptions<SignalingOptions>>().Value, time));
        services.AddSingleton<SignalingMetrics>();
        services.AddSingleton<SessionRegistry>();
        services.AddSingleton<RoomRegistry>();
        services.AddSingleton(sp => new JoinTokenValidator(sp.GetRequiredService<IOptions<AuthOptions>>(), time));
        services.AddSingleton(sp => new JoinRateLimiter(sp.GetRequiredService<IOptions<SignalingOptions>>(), time));
        services.AddSingleton<ISessionRequestHandler, PingHandler>();
        services.AddSingleton<ISessionRequestHandler, LeaveHandler>();
        services.AddSingleton<ISessionRequestHandler, SimulateHandler>();
        services.AddSingleton<SignalingService>();
        return services;
    }

    /// <summary>The media plane (UDP port, WebRTC transports, forwarding) and the requests that use it.</summary>
    public static IServiceCollection AddSfuMedia(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<MediaOptions>(configuration.GetSection(MediaOptions.SectionName));
        // Paths from a TURN server's address are counted as relayed: by default the configured servers' own addresses
        // (when written as IPs), which is where coturn relays from unless it has a relay-ip of its own.
        services.PostConfigure<MediaOptions>(media =>
        {
            if (media.RelayAddresses.Length > 0) return;
            var turn = configuration.GetSection(TurnOptions.SectionName).Get<TurnOptions>() ?? new TurnOptions();
            media.RelayAddresses = [.. turn.Urls.Select(TurnUrl.HostOf).Where(h => System.Net.IPAddress.TryParse(h, out _)).Distinct()];
        });
        services.AddSingleton<MediaService>();
        services.AddSingleton<ISessionRequestHandler, PublishHandler>();
        services.AddSingleton<ISessionRequestHandler, UnpublishHandler>();
        services.AddSingleton<ISessionRequestHandler, SubscribeAnswerHandler>();
        services.AddSingleton<ISessionRequestHandler>(new SubscriptionHandler(subscribe: true));
        services.AddSingleton<ISessionRequestHandler>(new SubscriptionHandler(subscribe: false));
        services.AddSingleton<ISessionRequestHandler, RestartIceHandler>();
        services.AddSingleton<ISessionRequestHandler, CandidateHandler>();
        services.AddSingleton<ISessionRequestHandler, TrackPreferencesHandler>();
        services.AddSingleton<IMediaFaultInjector, MediaFaultInjector>();
        return services;
    }
}
