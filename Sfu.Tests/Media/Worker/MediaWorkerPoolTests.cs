using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;
using Sfu.Media;
using Sfu.Media.Diagnostics;
using Sfu.Media.Dtls;
using Sfu.Media.Routing;
using Sfu.Media.Worker;

namespace Sfu.Tests.Media.Worker;

/// <summary>
/// Real workers on loopback UDP (port 0): one port each, rooms on the least-loaded one, a room's subscribers on its
/// home worker until that one carries more than the allowed imbalance, and every worker's counters in one scrape.
/// </summary>
public sealed class MediaWorkerPoolTests
{
    private static readonly MediaOptions TwoWorkers = new() { Port = 0, BindAddress = "127.0.0.1", TcpEnabled = false, Workers = 2, SpreadRoomAboveImbalance = 2 };

    [Test]
    public void EachWorker_HasItsOwnPortAndThread()
    {
        using var pool = NewPool(TwoWorkers, out _);
        Assert.Multiple(() =>
        {
            Assert.That(pool.All.Select(w => w.Index), Is.EqualTo(new[] { 0, 1 }));
            Assert.That(pool.All.Select(w => w.Port).Distinct().Count(), Is.EqualTo(2));
        });
    }

    [Test]
    public void ZeroWorkers_MeansOnePerCore()
    {
        using var pool = NewPool(new MediaOptions { Port = 0, BindAddress = "127.0.0.1", TcpEnabled = false }, out _);
        Assert.That(pool.All, Has.Count.EqualTo(Environment.ProcessorCount));
    }

    [TestCase(-1, 0, 50000, "Sfu:Media:Workers must be 0 (one per core) or more")]
    [TestCase(2, -1, 50000, "Sfu:Media:SpreadRoomAboveImbalance must be 0 or more")]
    [TestCase(4, 0, 65534, "Sfu:Media:Port 65534 leaves no room for 4 workers' ports")]
    public void ABadSetting_IsRefusedWithItsName_BeforeAnyPortOpens(int workers, int imbalance, int port, string message)
    {
        var options = new MediaOptions { Port = port, BindAddress = "127.0.0.1", TcpEnabled = false, Workers = workers, SpreadRoomAboveImbalance = imbalance };
        Assert.That(() => NewPool(options, out _), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains(message));
    }

    [Test]
    public async Task NewRooms_GoToTheLeastLoadedWorker()
    {
        using var pool = NewPool(TwoWorkers, out _);
        using var dtls = NewDtls();
        var first = pool.ForNewRoom();
        await OpenSubscribersAsync(first, dtls, "a", 3);

        Assert.Multiple(() =>
        {
            Assert.That(first.Index, Is.EqualTo(0), "equal loads: the first worker");
            Assert.That(pool.ForNewRoom().Index, Is.EqualTo(1), "worker 0 carries three transports, worker 1 none");
        });
    }

    [Test]
    public async Task ARoomsSubscribers_StayHome_UntilItCarriesMoreThanTheImbalanceOverTheLeastLoaded()
    {
        using var pool = NewPool(TwoWorkers, out _);
        using var dtls = NewDtls();
        var home = pool.All[0];
        await OpenSubscribersAsync(home, dtls, "big", 2);
        Assert.That(pool.ForSubscriber(home), Is.SameAs(home), "2 over 0 is not more than the allowed 2");

        await OpenSubscribersAsync(home, dtls, "big", 1, first: 2);
        Assert.That(pool.ForSubscriber(home), Is.SameAs(pool.All[1]), "3 over 0 is");
    }

    [Test]
    public void EveryWorkersPacketCounters_AddUpInOneScrape()
    {
        var registry = Metrics.NewCustomRegistry();
        var first = new MediaMetrics(registry);
        var second = first.ForWorker();
        first.Forwarded();
        second.Forwarded();
        second.Forwarded();
        second.Dropped(DropReason.PipeFull);

        Assert.Multiple(() =>
        {
            Assert.That(Scrape(registry), Does.Contain("sfu_media_rtp_forwarded_total 3"));
            Assert.That(Scrape(registry), Does.Contain("sfu_media_dropped_total{reason=\"pipe-full\"} 1"));
            Assert.That(first.DroppedCount(DropReason.PipeFull), Is.EqualTo(1), "read from any worker's view, the total");
        });
    }

    private static MediaWorkerPool NewPool(MediaOptions options, out MediaMetrics metrics)
    {
        metrics = new MediaMetrics(Metrics.NewCustomRegistry());
        return new MediaWorkerPool(options, TimeProvider.System, metrics, NullLogger<MediaWorker>.Instance);
    }

    private static DtlsContext NewDtls() => DtlsContext.Create(DtlsCertificate.Generate(), DtlsRole.Server);

    private static Task OpenSubscribersAsync(MediaWorker worker, DtlsContext dtls, string room, int count, int first = 0) => worker.InvokeAsync(() =>
    {
        var router = worker.CreateRouter(room, dtls);
        for (var i = first; i < first + count; i++) router.Subscriber($"peer-{i}", new NoListener());
    });

    private static string Scrape(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        registry.CollectAndExportAsTextAsync(stream).GetAwaiter().GetResult();
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private sealed class NoListener : IMediaPeerListener
    {
        public void OnMediaActivity()
        {
        }

        public void OnMediaPathLost(Sfu.Media.Transports.TransportDirection direction)
        {
        }

        public void OnTrackLayerChanged(string trackId, int layer, int layers, bool paused, LayerChangeReason reason)
        {
        }

        public void OnDataTrackOpened(DataProducer producer)
        {
        }

        public void OnDataTrackClosed(DataProducer producer)
        {
        }
    }
}
