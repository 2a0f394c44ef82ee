using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Signaling;

/// <summary>The operator's surface: admin API, metrics, health, graceful shutdown.</summary>
public sealed class AdminAndOperationsTests
{
    private const string ApiKey = "k3y";
    private SfuTestServer _server = null!;
    private HttpClient _http = null!;

    [SetUp]
    public async Task StartServer()
    {
        _server = await SfuTestServer.StartAsync(null, $"Sfu:Admin:ApiKey={ApiKey}");
        _http = new HttpClient { BaseAddress = _server.HttpBase };
        _http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
    }

    [TearDown]
    public async Task StopServer()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Test]
    public async Task AdminApi_WithoutOrWithWrongKey_Is401()
    {
        using var anonymous = new HttpClient { BaseAddress = _server.HttpBase };
        var none = await anonymous.GetAsync("/admin/rooms");
        anonymous.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "wrong");
        var wrong = await anonymous.GetAsync("/admin/rooms");
        Assert.Multiple(() =>
        {
            Assert.That(none.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        });
    }

    [Test]
    public async Task AdminApi_WithoutConfiguredKey_Is403()
    {
        await using var server = await SfuTestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.HttpBase };
        http.DefaultRequestHeaders.Add("X-Api-Key", "anything");
        var response = await http.GetAsync("/admin/rooms");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task ListRooms_ShowsRoomsWithPeers()
    {
        var (alice, aliceJoin) = await _server.JoinAsync("r1", "alice");
        var (bob, _) = await _server.JoinAsync("r2", "bob");
        await using var _ = alice;
        await using var __ = bob;

        var rooms = await _http.GetFromJsonAsync<JsonElement>("/admin/rooms");
        var r1 = rooms.EnumerateArray().Single(r => r.Str("id") == "r1");
        Assert.Multiple(() =>
        {
            Assert.That(rooms.GetArrayLength(), Is.EqualTo(2));
            Assert.That(r1.GetProperty("peers")[0].Str("peerId"), Is.EqualTo(aliceJoin.Str("peerId")));
            Assert.That(r1.GetProperty("peers")[0].Str("name"), Is.EqualTo("alice"));
            Assert.That(r1.GetProperty("peers")[0].Str("state"), Is.EqualTo("active"));
        });
    }

    [Test]
    public async Task CloseRoom_SendsRoomClosedAndCloses4011()
    {
        var (alice, _) = await _server.JoinAsync("r1");
        await using var _ = alice;
        var response = await _http.DeleteAsync("/admin/rooms/r1");
        var closed = await alice.NextEventAsync("room-closed");
        var again = await _http.DeleteAsync("/admin/rooms/r1");
        Assert.Multiple(async () =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
            Assert.That(closed.Str("reason"), Is.Not.Empty);
            Assert.That(await alice.Closed, Is.EqualTo((WebSocketCloseStatus)4011));
            Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        });
    }

    [Test]
    public async Task KickPeer_SendsKickedCloses4010_AndOthersSeePeerLeftKicked()
    {
        var (alice, _) = await _server.JoinAsync("r1");
        var (bob, bobJoin) = await _server.JoinAsync("r1");
        await using var _ = alice;
        await using var __ = bob;
        var response = await _http.DeleteAsync($"/admin/rooms/r1/peers/{bobJoin.Str("peerId")}");
        var kicked = await bob.NextEventAsync("kicked");
        var left = await alice.NextEventAsync("peer-left");
        var missing = await _http.DeleteAsync("/admin/rooms/r1/peers/nobody");
        Assert.Multiple(async () =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
            Assert.That(kicked.Str("reason"), Is.EqualTo("kicked"));
            Assert.That(await bob.Closed, Is.EqualTo((WebSocketCloseStatus)4010));
            Assert.That(left.Str("reason"), Is.EqualTo("kicked"));
            Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        });
    }

    [Test]
    public async Task Metrics_ArePrometheusText_WithSignalingFigures()
    {
        var (alice, join) = await _server.JoinAsync("r1");
        await alice.RequestAsync(new { type = "bogus" });
        alice.Abort();
        await using var back = await _server.ConnectAsync();
        await back.RequestAsync(new { type = "resume", sessionId = join.Str("sessionId"), resumeToken = join.Str("resumeToken"), lastSeq = 1 });

        using var anonymous = new HttpClient { BaseAddress = _server.HttpBase };
        var response = await anonymous.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Multiple(() =>
        {
            Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/plain"));
            Assert.That(text, Does.Contain("# TYPE sfu_rooms gauge"));
            Assert.That(text, Does.Contain("sfu_rooms 1"));
            Assert.That(text, Does.Contain("sfu_peers 1"));
            Assert.That(text, Does.Contain("sfu_sessions 1"));
            Assert.That(text, Does.Contain("sfu_resumes_total{result=\"ok\"} 1"));
            Assert.That(text, Does.Contain("sfu_replayed_messages_total 1"));
            Assert.That(text, Does.Contain("sfu_errors_total{code=\"unknown_type\"} 1"));
            Assert.That(text, Does.Contain("sfu_messages_received_total{type=\"join\"} 1"));
            Assert.That(text, Does.Contain("sfu_messages_received_total{type=\"unknown\"} 1"));
            Assert.That(text, Does.Contain("sfu_messages_sent_total{type=\"response\"}"));
        });
    }

    [Test]
    public async Task Metrics_IncludeTheRuntimesGarbageCollectionFigures()
    {
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        var metrics = await MetricsSnapshot.ScrapeAsync(_server);
        Assert.Multiple(() =>
        {
            Assert.That(metrics["dotnet_gc_collections_total{gc_heap_generation=\"gen0\"}"], Is.GreaterThan(0));
            Assert.That(metrics["dotnet_gc_pause_time_seconds_total"], Is.GreaterThan(0));
            Assert.That(metrics["dotnet_process_memory_working_set_bytes"], Is.GreaterThan(1_000_000));
        });
    }

    [Test]
    public async Task Metrics_IncludeTheJitsCompilationFigures()
    {
        var metrics = await MetricsSnapshot.ScrapeAsync(_server);
        Assert.Multiple(() =>
        {
            Assert.That(metrics["dotnet_jit_compiled_methods_total"], Is.GreaterThan(100), "the server's own startup compiled its methods");
            Assert.That(metrics["dotnet_jit_compilation_time_seconds_total"], Is.GreaterThan(0));
        });
    }

    [Test]
    public async Task Health_And_Readiness_AreOk()
    {
        using var anonymous = new HttpClient { BaseAddress = _server.HttpBase };
        Assert.Multiple(async () =>
        {
            Assert.That((await anonymous.GetAsync("/healthz")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That((await anonymous.GetAsync("/readyz")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task Shutdown_ClosesSocketsWith1001()
    {
        var (alice, _) = await _server.JoinAsync("r1");
        await using var _ = alice;
        var stopping = _server.App.StopAsync();
        Assert.That(await alice.Closed, Is.EqualTo(WebSocketCloseStatus.EndpointUnavailable));
        await stopping;
    }
}
