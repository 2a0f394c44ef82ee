using System.Text.Json;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Operations;

/// <summary>
/// Logging as an operator configures it in the <c>Serilog</c> section: levels per namespace, a sink of their
/// choice (here a JSON file the test reads back), and one line per HTTP request except for probes and scrapes.
/// </summary>
public sealed class LoggingConfigurationTests
{
    private string _logFile = null!;

    [SetUp]
    public void ChooseLogFile() => _logFile = Path.Combine(Path.GetTempPath(), $"sfu-log-{Guid.NewGuid():N}.json");

    [TearDown]
    public void DeleteLogFile() => File.Delete(_logFile);

    [Test]
    public async Task LevelsPerNamespace_FromConfiguration_DecideWhatIsWritten()
    {
        // Everything at Warning, but the signaling core at Debug: its Information lines appear, the media worker's do not.
        await using (var server = await StartAsync("Serilog:MinimumLevel:Default=Warning", "Serilog:MinimumLevel:Override:Sfu.Signaling=Debug"))
        {
            var (client, _) = await server.JoinAsync("logged-room");
            await client.DisposeAsync();
        }
        var events = ReadEvents();

        Assert.Multiple(() =>
        {
            Assert.That(events.Any(e => Context(e) == "Sfu.Signaling.Rooms.RoomRegistry" && Template(e) == "Room {RoomId} opened"), Is.True,
                "the signaling core's Information line was kept by its Debug override");
            Assert.That(events.Any(e => Context(e) == "Sfu.Media.Worker.MediaWorker"), Is.False,
                "the media worker's Information start-up line was dropped at the default Warning");
            Assert.That(events.Any(e => Context(e) == "Microsoft.Hosting.Lifetime"), Is.True, "appsettings.json's override for the host's lifetime still applies");
        });
    }

    [Test]
    public async Task RequestLogging_WritesOneLinePerRequest_ButProbesAndScrapesOnlyAtDebug()
    {
        await using (var server = await StartAsync("Serilog:MinimumLevel:Default=Information"))
        {
            using var http = new HttpClient { BaseAddress = server.HttpBase };
            await http.GetAsync("/healthz");
            await http.GetAsync("/readyz");
            await http.GetAsync("/metrics");
            await http.GetAsync("/admin/rooms");
            await http.GetAsync("/");
        }
        var requests = ReadEvents().Where(e => Context(e) == "Serilog.AspNetCore.RequestLoggingMiddleware").ToList();
        var paths = requests.Select(e => e.GetProperty("RequestPath").GetString()).ToList();

        Assert.Multiple(() =>
        {
            // "/" is logged as the file the default-files rewrite served.
            Assert.That(paths, Is.EquivalentTo(new[] { "/admin/rooms", "/index.html" }));
            Assert.That(requests.Single(e => e.GetProperty("RequestPath").GetString() == "/admin/rooms").GetProperty("StatusCode").GetInt32(), Is.EqualTo(403));
        });
    }

    private Task<SfuTestServer> StartAsync(params string[] settings) =>
        SfuTestServer.StartAsync(null,
        [
            "Serilog:Using:0=Serilog.Sinks.File",
            "Serilog:WriteTo:File:Name=File",
            $"Serilog:WriteTo:File:Args:path={_logFile}",
            "Serilog:WriteTo:File:Args:formatter=Serilog.Formatting.Compact.CompactJsonFormatter, Serilog.Formatting.Compact",
            .. settings,
        ]);

    /// <summary>The events the server wrote, read after it stopped (and closed the file).</summary>
    private List<JsonElement> ReadEvents() =>
        [.. File.ReadAllLines(_logFile).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement)];

    private static string? Context(JsonElement e) => e.TryGetProperty("SourceContext", out var c) ? c.GetString() : null;

    private static string? Template(JsonElement e) => e.TryGetProperty("@mt", out var t) ? t.GetString() : null;
}
