using System.Globalization;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Sfu.Server.Hosting;

/// <summary>
/// Serilog from the <c>Serilog</c> configuration section (levels per namespace, sinks, enrichers), behind
/// <c>ILogger&lt;T&gt;</c>. With no sink configured there, the console: plain text, or one JSON object per line
/// with <c>Sfu:Logging:Json=true</c> (the Docker image's choice).
/// </summary>
internal static class SfuLogging
{
    private const string TextTemplate = "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {SourceContext}: {Message:lj} {Properties:j}{NewLine}{Exception}";

    /// <summary>Endpoints hit every few seconds by machines, or whose sessions log their own lines: Debug, not Information.</summary>
    private static readonly PathString[] QuietPaths = ["/metrics", "/healthz", "/readyz", "/ws"];

    public static void AddSfuLogging(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        // A logger per host, not Serilog's static one: tests run several servers in one process.
        builder.Services.AddSerilog((services, logger) =>
        {
            logger.ReadFrom.Configuration(configuration).ReadFrom.Services(services);
            if (configuration.GetSection("Serilog:WriteTo").GetChildren().Any()) return;
            if (configuration.GetValue<bool>("Sfu:Logging:Json")) logger.WriteTo.Console(new RenderedCompactJsonFormatter());
            else logger.WriteTo.Console(outputTemplate: TextTemplate, formatProvider: CultureInfo.InvariantCulture);
        }, preserveStaticLogger: true);
    }

    /// <summary>One line per HTTP request when it completes; probes, scrapes and WebSockets at Debug, failures at Error.</summary>
    public static void UseSfuRequestLogging(this WebApplication app) =>
        app.UseSerilogRequestLogging(options =>
        {
            // This host's logger: without it the middleware writes to Serilog's static one, which AddSfuLogging leaves alone.
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            options.GetLevel = RequestLevel;
        });

    private static LogEventLevel RequestLevel(HttpContext context, double elapsedMs, Exception? error)
    {
        if (error is not null || context.Response.StatusCode >= StatusCodes.Status500InternalServerError) return LogEventLevel.Error;
        foreach (var quiet in QuietPaths)
        {
            if (context.Request.Path.StartsWithSegments(quiet)) return LogEventLevel.Debug;
        }
        return LogEventLevel.Information;
    }
}
