using System.Collections.Concurrent;
using System.Diagnostics;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Signaling.Chaos;

/// <summary>
/// 50 clients in 5 rooms against the real server while events flow among them (joins, leaves, publishes, pings), and
/// their sockets dropped 1,000 times in all, each time resuming from another local address and repeating what was in
/// flight. Every client's stream must stay whole: nothing lost, nothing duplicated, in order, every request answered,
/// and no <c>peer-left</c> for anyone who came back in time. Decisions come from one seed; interleavings from the machine.
/// </summary>
public sealed class SignalingChaosTests : ServerTest
{
    private const int Clients = 50;
    private const int Rooms = 5;
    private const int DropsPerClient = 20;
    private const int MaxAwayMs = 150;
    private const int Seed = 8;

    [Test]
    public async Task FiftyClients_ThousandDrops_EveryStreamWhole_AndNoPeerLeftForThoseWhoCameBack()
    {
        var deliberatelyLeft = new ConcurrentDictionary<string, bool>();
        var seeds = new Random(Seed);
        var peers = Enumerable.Range(0, Clients)
            .Select(i => new ChaosPeer(Server.WebSocketUri, $"chaos-{i % Rooms}", new Random(seeds.Next()), deliberatelyLeft))
            .ToList();
        var watch = Stopwatch.StartNew();

        await Task.WhenAll(peers.Select(p => p.JoinAsync()));
        var finalSeqs = await Task.WhenAll(peers.Select(p => p.RunAsync(DropsPerClient, MaxAwayMs))).WaitAsync(TimeSpan.FromSeconds(50));
        await Task.WhenAll(peers.Select(p => p.LeaveAsync()));
        var elapsed = watch.Elapsed;
        var metrics = await MetricsSnapshot.ScrapeAsync(Server);

        TestContext.Progress.WriteLine(
            $"signaling chaos: {peers.Sum(p => p.Drops)} drops, {peers.Sum(p => p.Sessions)} sessions, {peers.Sum(p => p.MessagesAccepted)} messages accepted, " +
            $"{metrics.Sum("sfu_replayed_messages_total")} replayed, {peers.Sum(p => p.PeerLeftSeen)} peer-left seen, in {elapsed.TotalSeconds:F1} s");
        var violations = peers.SelectMany((p, i) => p.Violations.Select(v => $"client {i}: {v}")).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(peers.Sum(p => p.Drops), Is.EqualTo(Clients * DropsPerClient));
            Assert.That(violations, Is.Empty, string.Join(Environment.NewLine, violations.Take(20)));
            Assert.That(finalSeqs, Has.All.GreaterThan(1), "every client's last ping was answered inside its session");
            Assert.That(metrics.Sum("sfu_peers_left_total{reason=\"timeout\"}"), Is.Zero, "nobody was removed for silence");
        });
    }
}
