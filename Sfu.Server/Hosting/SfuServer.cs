using Sfu.Server.Admin;
using Prometheus;
using Sfu.Server.Cluster;
using Sfu.Server.Metrics;
using Sfu.Server.Sdk;
using Sfu.Server.WebSockets;
using Sfu.Signaling;
using Sfu.Signaling.Connections;
using Sfu.Signaling.Diagnostics;
using Sfu.Signaling.MediaSessions;

namespace Sfu.Server.Hosting;

/// <summary>
/// Builds the server: configuration, services and endpoints. <c>Program</c> runs it as is; tests build it with a
/// manual clock and loopback addresses, so they exercise exactly what production runs.
/// </summary>
public static class SfuServer
{
    public static WebApplication Build(string[] args, TimeProvider? time = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrel(kestrel => kestrel.AddServerHeader = false);
        var https = SfuTls.Configure(builder);
        if (builder.Configuration["urls"] is null && builder.Configuration["ASPNETCORE_URLS"] is null)
            builder.WebHost.UseUrls(https ? $"http://0.0.0.0:8080;https://0.0.0.0:{SfuTls.DefaultPort}" : "http://0.0.0.0:8080");
        builder.AddSfuLogging();

        builder.Services.AddSfuSignaling(builder.Configuration, time ?? TimeProvider.System);
        builder.Services.AddSfuMedia(builder.Configuration);
        builder.Services.Configure<AdminOptions>(builder.Configuration.GetSection(AdminOptions.SectionName));
        builder.Services.Configure<SdkOptions>(builder.Configuration.GetSection(SdkOptions.SectionName));
        builder.Services.AddSfuCluster(builder.Configuration);
        builder.Services.AddSingleton<WebSocketGateway>();
        builder.Services.AddHostedService<GracefulShutdown>();

        var app = builder.Build();
        // Every metric exists from start-up: the process, runtime and build series, then the signaling and media
        // ones (creating the media service also binds the media port now rather than on the first publish).
        var registry = app.Services.GetRequiredService<CollectorRegistry>();
        DotNetStats.Register(registry);
        RuntimeMetrics.Register(registry);
        BuildInfo.Register(registry);
        app.Services.GetRequiredService<SignalingMetrics>();
        app.Services.GetRequiredService<MediaService>();

        app.UseSfuRequestLogging();
        // The demo page and the browser SDK (clients/browser, copied into wwwroot by the build), the SDK with CORS.
        app.UseDemoAndSdkFiles();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        app.Map("/ws", (HttpContext context, WebSocketGateway gateway) => gateway.HandleAsync(context));
        // The classic text format only: OpenMetrics would carry exemplars, which this server does not record.
        app.MapMetrics(settings =>
        {
            settings.Registry = registry;
            settings.EnableOpenMetrics = false;
        });
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", (SignalingService signaling) =>
            signaling.IsAccepting ? Results.Text("ready") : Results.Text("shutting down", statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapAdminApi();
        return app;
    }
}
