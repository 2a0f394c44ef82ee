namespace Sfu.Tests.Infrastructure;

/// <summary>A test class that gets a fresh real server (default settings, system clock) for every test.</summary>
public abstract class ServerTest
{
    /// <summary>The running server; a test may replace it with one started with other settings.</summary>
    protected SfuTestServer Server { get; set; } = null!;

    [SetUp]
    public async Task StartServer() => Server = await SfuTestServer.StartAsync();

    [TearDown]
    public async Task StopServer() => await Server.DisposeAsync();
}
