namespace Sfu.Tests.Infrastructure;

/// <summary>Waits for something the server does on its own time (a socket closing, a metric moving), polling briefly.</summary>
public static class Eventually
{
    /// <summary>Returns once <paramref name="condition"/> holds; throws after <see cref="TestClient.DefaultWait"/>.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TestClient.DefaultWait;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what}: not within {TestClient.DefaultWait}");
            await Task.Delay(20);
        }
    }

    /// <summary>Returns once the server's <paramref name="series"/> reaches <paramref name="value"/>.</summary>
    public static Task MetricReachesAsync(SfuTestServer server, string series, double value) =>
        HoldsAsync(async () => (await MetricsSnapshot.ScrapeAsync(server))[series] >= value, $"{series} reaching {value}");

    /// <summary>Returns once the server's <paramref name="series"/> equals <paramref name="value"/>.</summary>
    public static Task MetricIsAsync(SfuTestServer server, string series, double value) =>
        HoldsAsync(async () => (await MetricsSnapshot.ScrapeAsync(server))[series] == value, $"{series} being {value}");
}
