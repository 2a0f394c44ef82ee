using System.Diagnostics;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Operations;

/// <summary>
/// The load tools' command lines, run as a user runs them (the built dll as a process): help exits 0, a bad value
/// exits 2 with a message and no stack trace, before anything connects anywhere.
/// </summary>
public sealed class ToolCommandLineTests
{
    private const string LoadTest = "Sfu.LoadTest";
    private const string MediaLoad = "Sfu.MediaLoad";

    [TestCase(LoadTest)]
    [TestCase(MediaLoad)]
    public async Task Help_PrintsUsage_AndExitsZero(string tool)
    {
        var (exitCode, output, errors) = await RunAsync(tool, "--help");

        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.EqualTo(0), errors);
            Assert.That(output, Does.Contain("Usage:").And.Contain("--json"));
            Assert.That(errors, Is.Empty);
        });
    }

    [TestCase(LoadTest, new[] { "ws://127.0.0.1:1/ws", "many" }, "sessions must be a whole number")]
    [TestCase(LoadTest, new[] { "http://127.0.0.1:1/ws" }, "url must be an absolute ws or wss URL")]
    [TestCase(MediaLoad, new[] { "--subscribers", "0" }, "--subscribers must be a whole number of at least 1")]
    [TestCase(MediaLoad, new[] { "replay" }, "'replay' not recognized")]
    public async Task BadValue_IsReported_AndExitsTwo(string tool, string[] arguments, string message)
    {
        var (exitCode, output, errors) = await RunAsync(tool, arguments);

        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.EqualTo(2));
            Assert.That(errors, Does.Contain(message));
            Assert.That(errors + output, Does.Not.Contain("Exception").And.Not.Contain("   at "));
        });
    }

    private static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string tool, params string[] arguments)
    {
        // The tools are built into their own output folders with the test project's configuration (Sfu.Tests.csproj).
        var configuration = new DirectoryInfo(TestContext.CurrentContext.TestDirectory).Parent!.Name;
        var dll = RepositoryFiles.PathOf("tools", tool, "bin", configuration, "net10.0", tool + ".dll");
        Assert.That(File.Exists(dll), Is.True, dll);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await errors);
    }
}
