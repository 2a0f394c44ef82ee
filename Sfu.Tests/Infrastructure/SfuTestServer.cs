using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Sfu.Server.Hosting;

namespace Sfu.Tests.Infrastructure;

/// <summary>The real server (Kestrel, real sockets) on a free loopback port, optionally on a manual clock.</summary>
public sealed class SfuTestServer : IAsyncDisposable
{
    private SfuTestServer(WebApplication app, Uri httpBase)
    {
        App = app;
        HttpBase = httpBase;
        WebSocketUri = new Uri($"ws://{httpBase.Authority}/ws");
    }

    public WebApplication App { get; }

    public Uri HttpBase { get; }

    public Uri WebSocketUri { get; }

    public IServiceProvider Services => App.Services;

    /// <summary>The first media worker: with the tests' default of one worker, the one every room lives on.</summary>
    public Sfu.Media.Worker.MediaWorker MediaWorker => Services.GetRequiredService<Sfu.Signaling.MediaSessions.MediaService>().Workers.All[0];

    /// <summary>The UDP port of the (first) media worker (the OS picked it).</summary>
    public int MediaPort => MediaWorker.Port;

    /// <param name="settings">Configuration overrides, e.g. <c>"Sfu:Signaling:MaxPeersPerRoom=2"</c> or <c>"urls=http://0.0.0.0:0"</c>
    /// (the last value of a key wins).</param>
    public static async Task<SfuTestServer> StartAsync(TimeProvider? clock = null, params string[] settings)
    {
        string[] args =
        [
            "--urls=http://127.0.0.1:0",
            "--Serilog:MinimumLevel:Default=Warning",
            "--Sfu:Media:Port=0",
            "--Sfu:Media:BindAddress=127.0.0.1",
            // One media worker, so that MediaPort is every room's port; tests of several workers set Workers themselves.
            "--Sfu:Media:Workers=1",
            "--Sfu:Signaling:JoinsPerSecondPerIp=1000",
            "--Sfu:Signaling:JoinBurstPerIp=1000",
            .. settings.Select(s => "--" + s),
        ];
        var app = SfuServer.Build(args, clock);
        await app.StartAsync();
        var address = new UriBuilder(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        // Listening on every address (a test that needs other interfaces): the test's own clients use loopback.
        if (address.Host is "0.0.0.0" or "[::]") address.Host = "127.0.0.1";
        return new SfuTestServer(app, address.Uri);
    }

    public Task<TestClient> ConnectAsync(string? localAddress = null, string? subProtocol = "sfu.v1") =>
        TestClient.ConnectAsync(WebSocketUri, localAddress, subProtocol);

    /// <summary>Connects and joins <paramref name="room"/>; returns the client and the join response.</summary>
    public async Task<(TestClient Client, System.Text.Json.JsonElement Join)> JoinAsync(string room, string? name = null, string? localAddress = null)
    {
        var client = await ConnectAsync(localAddress);
        var join = await client.RequestAsync(new { type = "join", room, name });
        if (!join.GetProperty("ok").GetBoolean()) throw new InvalidOperationException($"join failed: {join}");
        return (client, join);
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
