using System.Diagnostics;
using System.Text.Json;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Tools;

/// <summary>
/// The media load tool (tools/Sfu.MediaLoad) for a few seconds, run as a user runs it (the built dll as a process):
/// against our server, then against Janus and our server side by side. Each run must report real figures from its
/// JSON summary: packets received by every subscriber, one-way latencies measured on stamped packets, and join times.
/// </summary>
public sealed class MediaLoadSmokeTests
{
    private const string Janus = "/usr/bin/janus";

    // A veth pair of our own: Janus gathers no loopback candidates, so ICE needs an address on a real interface.
    private const string VethA = "janus-v0";
    private const string VethB = "janus-v1";
    private const string AddressA = "10.213.13.1";

    [Test]
    public async Task AgainstOurServer_LoadAndJoins_ReportPacketsLatencyAndJoinTimes()
    {
        await using var server = await SfuTestServer.StartAsync();
        var url = server.HttpBase.ToString();
        var pid = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var load = await RunAsync("load", "--url", url, "--pid", pid, "--subscribers", "3", "--seconds", "2", "--warmup", "1");
        var joins = await RunAsync("joins", "--url", url, "--pid", pid, "--joins", "3");

        var window = load.GetProperty("load");
        Assert.Multiple(() =>
        {
            Assert.That(window.GetProperty("subscribers").GetInt32(), Is.EqualTo(3));
            Assert.That(window.GetProperty("receivedPerSecond").GetDouble(), Is.GreaterThan(3 * 100), "3 subscribers of ~170 video packets/s");
            Assert.That(window.GetProperty("serverForwardedPerSecond").GetDouble(), Is.GreaterThan(3 * 100));
            Assert.That(window.GetProperty("serverCpuMicrosecondsPerPacket").GetDouble(), Is.GreaterThan(0));
            Assert.That(window.GetProperty("serverJitPercentOfWindow").GetDouble(), Is.GreaterThanOrEqualTo(0), "read from the server's metrics");
            Assert.That(window.GetProperty("latency").GetProperty("packets").GetInt64(), Is.GreaterThan(3 * 100), "every video packet carries its send time");
            Assert.That(window.GetProperty("latency").GetProperty("p50Ms").GetDouble(), Is.GreaterThan(0).And.LessThan(1000));
            var residence = window.GetProperty("serverResidence");
            Assert.That(residence.GetProperty("turns").GetDouble(), Is.GreaterThan(0), "the server's residence histogram, scraped around the window");
            Assert.That(residence.GetProperty("p50Ms").GetDouble(), Is.GreaterThan(0).And.LessThanOrEqualTo(residence.GetProperty("p99Ms").GetDouble()));
            Assert.That(residence.GetProperty("p99Ms").GetDouble(), Is.LessThanOrEqualTo(50), "read off buckets that end at 50 ms");
            Assert.That(joins.GetProperty("joinMs").GetProperty("count").GetInt32(), Is.EqualTo(3));
            Assert.That(joins.GetProperty("joinMs").GetProperty("p50").GetDouble(), Is.GreaterThan(0).And.LessThan(10_000));
        });
    }

    [Test]
    public async Task Compare_AgainstJanusAndOurServer_ReportsBothSideBySide()
    {
        if (!File.Exists(Janus))
        {
            Assert.Ignore($"{Janus} is not installed (scripts/install-deps.sh installs it)");
        }

        try
        {
            DeleteVeth();
            NetworkNamespace.RootIp("link", "add", VethA, "type", "veth", "peer", "name", VethB);
            NetworkNamespace.RootIp("addr", "add", AddressA + "/30", "dev", VethA);
            NetworkNamespace.RootIp("link", "set", VethA, "up");
            NetworkNamespace.RootIp("link", "set", VethB, "up");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            DeleteVeth();
            Assert.Ignore($"a veth pair cannot be created here: {e.Message}");
        }

        try
        {
            // Our server's media socket on the same address as Janus's, so that both are reached the same way.
            await using var server = await SfuTestServer.StartAsync(null, $"Sfu:Media:BindAddress={AddressA}");
            var summary = await RunAsync("compare", "--url", server.HttpBase.ToString(), "--pid",
                Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--address", AddressA,
                "--subscribers", "2", "--seconds", "2", "--warmup", "1", "--find", "--start", "2", "--max-subscribers", "4", "--step-seconds", "1", "--joins", "2");

            var servers = summary.GetProperty("servers").EnumerateArray().ToArray();
            Assert.That(servers.Select(s => s.GetProperty("server").GetString()), Is.EqualTo(new[] { "sfu", "janus" }));
            Assert.Multiple(() =>
            {
                foreach (var figures in servers)
                {
                    var name = figures.GetProperty("server").GetString();
                    var load = figures.GetProperty("load");
                    Assert.That(load.GetProperty("receivedPerSecond").GetDouble(), Is.GreaterThan(2 * 100), name);
                    Assert.That(load.GetProperty("serverCpuMicrosecondsPerPacket").GetDouble(), Is.GreaterThan(0), name);
                    Assert.That(load.GetProperty("latency").GetProperty("packets").GetInt64(), Is.GreaterThan(2 * 100), name);
                    Assert.That(figures.GetProperty("largestWithoutLoss").GetInt32(), Is.GreaterThanOrEqualTo(0), name);
                    Assert.That(figures.GetProperty("steps").GetArrayLength(), Is.GreaterThanOrEqualTo(1), name);
                    Assert.That(figures.GetProperty("joinMs").GetProperty("count").GetInt32(), Is.EqualTo(2), name);
                    Assert.That(figures.GetProperty("joinMs").GetProperty("p50").GetDouble(), Is.GreaterThan(0).And.LessThan(10_000), name);
                }
            });
        }
        finally
        {
            DeleteVeth();
        }
    }

    private static void DeleteVeth()
    {
        try
        {
            NetworkNamespace.RootIp("link", "del", VethA);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            // Not there: nothing to delete (deleting one end removes both).
        }
    }

    /// <summary>Runs the tool with <c>--json</c> and returns the summary it wrote; fails with its output if it exits non-zero.</summary>
    private static async Task<JsonElement> RunAsync(params string[] arguments)
    {
        var configuration = new DirectoryInfo(TestContext.CurrentContext.TestDirectory).Parent!.Name;
        var dll = RepositoryFiles.PathOf("tools", "Sfu.MediaLoad", "bin", configuration, "net10.0", "Sfu.MediaLoad.dll");
        var json = Path.Combine(Path.GetTempPath(), $"media-load-smoke-{Guid.NewGuid():N}.json");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments.Append("--json").Append(json)) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        TestContext.Progress.WriteLine(await output);
        Assert.That(process.ExitCode, Is.EqualTo(0), await output + await errors);
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        File.Delete(json);
        return document.RootElement.Clone();
    }
}
