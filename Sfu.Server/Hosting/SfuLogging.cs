using Serilog;
using Serilog.Events;
using Serilog.Formatting.Json;

namespace Sfu.Server.Hosting;

/// <summary>Serilog to the console: plain text by default, JSON with <c>Sfu:Logging:Json=true</c>.</summary>
internal static class SfuLogging
{
    public static void AddSfuLogging(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("Sfu:Logging");
        var level = Enum.TryParse<LogEventLevel>(section["Level"], ignoreCase: true, out var parsed) ? parsed : LogEventLevel.Information;
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .Enrich.FromLogContext();
        configuration = section.GetValue<bool>("Json")
            ? configuration.WriteTo.Console(new JsonFormatter(renderMessage: true))
            : configuration.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {SourceContext}: {Message:lj} {Properties:j}{NewLine}{Exception}");

        builder.Logging.ClearProviders();
        builder.Logging.AddSerilog(configuration.CreateLogger(), dispose: true);
    }
}
