using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Operations;

/// <summary>
/// What a Prometheus server sees on <c>/metrics</c> of a server that has done nothing yet: every series a dashboard or
/// an alert reads exists at 0, with its right type, next to the process, runtime and build series.
/// </summary>
public sealed partial class MetricsExpositionTests : ServerTest
{
    [Test]
    public async Task IdleServer_ExportsEverySeriesAtZero_WithItsType()
    {
        var text = await ScrapeAsync();
        var types = TypeLine().Matches(text).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);

        Assert.Multiple(() =>
        {
            foreach (var gauge in new[] { "sfu_rooms", "sfu_peers", "sfu_sessions", "sfu_sockets", "sfu_media_transports" })
            {
                Assert.That(types.GetValueOrDefault(gauge), Is.EqualTo("gauge"), gauge);
                Assert.That(text, Does.Contain($"\n{gauge} 0\n"), gauge);
            }
            foreach (var series in new[]
            {
                "sfu_messages_received_total{type=\"join\"}", "sfu_messages_received_total{type=\"ping\"}",
                "sfu_messages_received_total{type=\"malformed\"}", "sfu_messages_sent_total{type=\"peer-joined\"}",
                "sfu_errors_total{code=\"room_full\"}", "sfu_errors_total{code=\"internal\"}", "sfu_resumes_total{result=\"ok\"}",
                "sfu_resumes_total{result=\"replay-unavailable\"}", "sfu_replayed_messages_total", "sfu_peers_left_total{reason=\"timeout\"}",
                "sfu_rooms_closed_total{reason=\"empty\"}", "sfu_limit_rejections_total{limit=\"joins\"}",
                "sfu_sockets_closed_total{code=\"4000\"}", "sfu_media_packets_received_total", "sfu_media_rtp_forwarded_total",
                "sfu_media_dropped_total{reason=\"srtp-failure\"}", "sfu_media_dtls_handshakes_total{result=\"failed\"}",
                "sfu_media_rebinds_total{direction=\"subscribe\",trigger=\"nominated\"}", "sfu_media_rebinds_refused_total{reason=\"unauthenticated\"}",
                "sfu_media_ice_restarts_total{direction=\"publish\"}", "sfu_media_consent_expired_total",
            })
            {
                Assert.That(text, Does.Contain($"\n{series} 0\n"), series);
                Assert.That(types.GetValueOrDefault(series.Split('{')[0]), Is.EqualTo("counter"), series);
            }
            foreach (var histogram in new[] { "sfu_peer_outage_seconds", "sfu_media_recovery_time_seconds" })
            {
                Assert.That(types.GetValueOrDefault(histogram), Is.EqualTo("histogram"), histogram);
                Assert.That(text, Does.Contain($"\n{histogram}_count 0\n"), histogram);
            }
        });
    }

    [Test]
    public async Task Metrics_IncludeProcessRuntimeAndBuildSeries_WithTheirTypes()
    {
        var text = await ScrapeAsync();
        var types = TypeLine().Matches(text).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var startTime = Regex.Match(text, @"\nprocess_start_time_seconds ([0-9.e+]+)\n");

        Assert.Multiple(() =>
        {
            Assert.That(startTime.Success, Is.True, "process_start_time_seconds");
            Assert.That(double.Parse(startTime.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
                Is.EqualTo(DateTimeOffset.UtcNow.ToUnixTimeSeconds()).Within(3600));
            Assert.That(types.GetValueOrDefault("process_cpu_seconds_total"), Is.EqualTo("counter"));
            Assert.That(types.GetValueOrDefault("dotnet_thread_pool_thread_count"), Is.EqualTo("gauge"));
            Assert.That(types.GetValueOrDefault("dotnet_thread_pool_queue_length"), Is.EqualTo("gauge"));
            Assert.That(types.GetValueOrDefault("dotnet_gc_pause_time_seconds_total"), Is.EqualTo("counter"));
            Assert.That(types.GetValueOrDefault("dotnet_process_memory_working_set_bytes"), Is.EqualTo("gauge"));
            Assert.That(types.GetValueOrDefault("sfu_build_info"), Is.EqualTo("gauge"));
            Assert.That(text, Does.Match(@"\nsfu_build_info\{version=""[^""]+"",commit=""[^""]+"",runtime=""10\.[^""]+""\} 1\n"));
        });
    }

    [Test]
    public async Task Scrape_AskingForOpenMetrics_GetsTheClassicTextFormatWithoutExemplars()
    {
        using var http = new HttpClient { BaseAddress = Server.HttpBase };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        // What Prometheus sends by default: it prefers OpenMetrics, the only format that carries exemplars.
        request.Headers.Accept.ParseAdd("application/openmetrics-text;version=1.0.0;q=0.9");
        request.Headers.Accept.ParseAdd("text/plain;version=0.0.4;q=0.5");
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
            Assert.That(text, Does.Not.Contain("# EOF"));
            Assert.That(text, Does.Not.Contain("trace_id"));
        });
    }

    private async Task<string> ScrapeAsync()
    {
        using var http = new HttpClient { BaseAddress = Server.HttpBase };
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("text/plain"));
        return "\n" + await http.GetStringAsync("/metrics");
    }

    [GeneratedRegex(@"^# TYPE ([a-z_]+) ([a-z]+)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();
}
