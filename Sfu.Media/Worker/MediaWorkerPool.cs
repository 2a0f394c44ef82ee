using System.Net;
using Microsoft.Extensions.Logging;
using Sfu.Media.Diagnostics;

namespace Sfu.Media.Worker;

/// <summary>
/// The server's media workers, one per core by default (<see cref="MediaOptions.Workers"/>), each a thread with its
/// own UDP (and ICE-TCP) port: worker i on <see cref="MediaOptions.Port"/> + i. New rooms go to the least-loaded worker;
/// a room's subscribers spread to others when its home worker is much busier than they are (<see cref="ForSubscriber"/>).
/// </summary>
public sealed class MediaWorkerPool : IDisposable
{
    private readonly MediaWorker[] _workers;

    public MediaWorkerPool(MediaOptions options, TimeProvider time, MediaMetrics metrics, ILogger<MediaWorker> logger)
    {
        // Before any port opens, so that a refused configuration leaves no socket behind.
        if (options.Workers < 0) throw new ArgumentOutOfRangeException(nameof(options), options.Workers, "Sfu:Media:Workers must be 0 (one per core) or more");
        if (options.SpreadRoomAboveImbalance < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.SpreadRoomAboveImbalance, "Sfu:Media:SpreadRoomAboveImbalance must be 0 or more");
        var count = options.EffectiveWorkers;
        if (options.Port > 0 && options.Port + count - 1 > IPEndPoint.MaxPort)
            throw new ArgumentOutOfRangeException(nameof(options), options.Port, $"Sfu:Media:Port {options.Port} leaves no room for {count} workers' ports (Port + Workers - 1 must be at most {IPEndPoint.MaxPort})");
        if (options.TcpPort is { } tcpPort && tcpPort + count - 1 > IPEndPoint.MaxPort)
            throw new ArgumentOutOfRangeException(nameof(options), tcpPort, $"Sfu:Media:TcpPort {tcpPort} leaves no room for {count} workers' ports");
        _workers = new MediaWorker[count];
        try
        {
            // Each worker counts into its own fields (no two threads add to one); the first uses the ones it was given.
            for (var i = 0; i < count; i++) _workers[i] = new MediaWorker(options, time, i == 0 ? metrics : metrics.ForWorker(), logger, i);
        }
        catch
        {
            foreach (var started in _workers) started?.Dispose();
            throw;
        }
        Options = options;
    }

    public MediaOptions Options { get; }

    public IReadOnlyList<MediaWorker> All => _workers;

    /// <summary>The worker a new room lives on: the one with the fewest transports (the first among equals).</summary>
    public MediaWorker ForNewRoom() => LeastLoaded();

    /// <summary>
    /// The worker a room's new subscriber goes on: the room's <paramref name="home"/> worker, unless it carries more
    /// than <see cref="MediaOptions.SpreadRoomAboveImbalance"/> transports over the least-loaded one; then that one.
    /// </summary>
    public MediaWorker ForSubscriber(MediaWorker home)
    {
        var least = LeastLoaded();
        return home.Load - least.Load > Options.SpreadRoomAboveImbalance ? least : home;
    }

    private MediaWorker LeastLoaded()
    {
        var least = _workers[0];
        foreach (var worker in _workers)
        {
            if (worker.Load < least.Load) least = worker;
        }
        return least;
    }

    public void Dispose()
    {
        foreach (var worker in _workers) worker.Dispose();
    }
}
