using System.Buffers.Binary;
using Sfu.Soak;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Tools;

/// <summary>
/// The soak tool (tools/Sfu.Soak) for a few seconds against the real server: the cycles it drives (media publisher and
/// subscriber, signaling peers, drops and resumes, re-binds, replacements, everyone leaving) must end with every count
/// back at its baseline, with no failed action and video flowing in every cycle, and it must write its CSV and PNG.
/// </summary>
public sealed class SoakSmokeTests
{
    [Test]
    public async Task ShortSoak_EveryCycleEndsAtBaseline_WithVideoFlowing_AndWritesCsvAndPng()
    {
        // Empty rooms close after 0.5 s instead of 10, so that each cycle settles quickly.
        await using var server = await SfuTestServer.StartAsync(null, "Sfu:Signaling:EmptyRoomCloseMs=500");
        var directory = Directory.CreateTempSubdirectory("soak-smoke-");
        var options = new SoakOptions
        {
            Url = server.HttpBase,
            Duration = TimeSpan.FromSeconds(15),
            ActivePerCycle = TimeSpan.FromSeconds(4),
            SettleLimit = TimeSpan.FromSeconds(10),
            SampleInterval = TimeSpan.FromSeconds(2),
            Rooms = 2,
            SignalingPeersPerRoom = 3,
            CsvPath = Path.Combine(directory.FullName, "soak.csv"),
            PngPath = Path.Combine(directory.FullName, "soak.png"),
        };
        var log = new StringWriter();

        var report = await new SoakRun(options, log).RunAsync(CancellationToken.None);

        TestContext.Progress.WriteLine(log.ToString());
        var csv = await File.ReadAllLinesAsync(options.CsvPath);
        var png = await File.ReadAllBytesAsync(options.PngPath);
        Assert.Multiple(() =>
        {
            Assert.That(report.Cycles, Has.Count.GreaterThanOrEqualTo(2));
            Assert.That(report.Cycles.Select(c => c.Off), Has.All.Empty, "counts back at baseline after every cycle");
            Assert.That(report.Failures, Is.Zero, log.ToString());
            Assert.That(report.Cycles.Select(c => c.Activity.VideoPackets.Min()), Has.All.GreaterThan(0), "video reached every subscriber in every cycle");
            Assert.That(report.Cycles.Select(c => c.Activity.StalledSubscribers), Has.All.Zero);
            Assert.That(csv[0], Is.EqualTo(ServerSample.CsvHeader));
            Assert.That(csv.Count(l => l.Contains(",end,", StringComparison.Ordinal)), Is.EqualTo(report.Cycles.Count));
            Assert.That(png.AsSpan(0, 8).ToArray(), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "a PNG signature");
            Assert.That(BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), Is.EqualTo(1000), "IHDR width");
        });
        directory.Delete(recursive: true);
    }
}
