using System.Diagnostics;
using Sfu.Client.Media;
using Sfu.MediaLoad.Servers;

namespace Sfu.MediaLoad.Measurement;

/// <summary>
/// What one measurement window saw. "Received" counts every packet the subscribers got (media, audio and
/// retransmissions): what a server forwarded and the network delivered, counted the same way for every server.
/// </summary>
sealed record WindowResult(
    string Server,
    int Subscribers,
    double Seconds,
    long PublisherVideoPackets,
    double ReceivedPerSecond,
    double? ServerForwardedPerSecond,
    double? ServerCpuPercent,
    double? ServerCpuMicrosecondsPerPacket,
    double? ServerJitPercent, // of the window's wall time the server's JIT spent compiling
    double? WorkerAllocatedBytesPerPacket,
    double ToolCpuPercent,
    ScrapedHistogram? ServerResidence, // what sfu_media_residence_seconds observed in the window
    long LostMin,
    double LostAverage,
    long LostMax,
    long LostTotal,
    long ExpectedTotal,
    LatencyHistogram Latency)
{
    public bool Lossless => LostTotal == 0;

    public double LossPercent => ExpectedTotal == 0 ? 100 : 100.0 * LostTotal / ExpectedTotal;
}

static class LoadWindow
{
    /// <summary>Measures <paramref name="length"/> of the rooms as they are now (latency from a clean slate).</summary>
    public static async Task<WindowResult> MeasureAsync(Rooms rooms, TimeSpan length, CancellationToken cancel)
    {
        var subscribers = rooms.Subscribers;
        foreach (var peer in subscribers) peer.Subscriber.ClearLatency();
        var before = await Sample.TakeAsync(rooms, subscribers, cancel);
        await Task.Delay(length, cancel);
        var after = await Sample.TakeAsync(rooms, subscribers, cancel);

        var seconds = (after.At - before.At) / (double)Stopwatch.Frequency;
        var lost = new long[subscribers.Length];
        long received = 0;
        long expected = 0;
        for (var i = 0; i < subscribers.Length; i++)
        {
            lost[i] = after.Streams[i].Lost - before.Streams[i].Lost;
            expected += after.Streams[i].Expected - before.Streams[i].Expected;
            received += after.Streams[i].Packets - before.Streams[i].Packets;
        }

        var latency = new LatencyHistogram();
        foreach (var peer in subscribers) peer.Subscriber.AddLatencyTo(latency);
        var serverCpu = after.ServerCpu - before.ServerCpu;
        double? forwarded = after.Counters is { } a && before.Counters is { } b ? a.Forwarded - b.Forwarded : null;
        double? allocated = after.Counters is { } c && before.Counters is { } d && forwarded > 0 ? (c.WorkerAllocatedBytes - d.WorkerAllocatedBytes) / forwarded : null;
        double? jitPercent = after.Counters is { } e && before.Counters is { } f ? (e.JitSeconds - f.JitSeconds) / seconds * 100 : null;
        var residence = after.Counters?.Residence is { } g && before.Counters?.Residence is { } h ? g.Since(h) : null;
        return new WindowResult(
            rooms.Server.Name, subscribers.Length, seconds, after.PublisherVideoPackets - before.PublisherVideoPackets,
            received / seconds, forwarded / seconds,
            serverCpu?.TotalSeconds / seconds * 100, serverCpu?.TotalMicroseconds / Math.Max(1, received), jitPercent, allocated,
            (after.ToolCpu - before.ToolCpu).TotalSeconds / seconds * 100, residence,
            lost.Length == 0 ? 0 : lost.Min(), lost.Length == 0 ? 0 : lost.Average(), lost.Length == 0 ? 0 : lost.Max(), lost.Sum(), expected, latency);
    }

    /// <summary>Everything read at one end of the window.</summary>
    private sealed record Sample(long At, long PublisherVideoPackets, TimeSpan? ServerCpu, TimeSpan ToolCpu, ServerCounters? Counters, (long Lost, long Expected, long Packets)[] Streams)
    {
        public static async Task<Sample> TakeAsync(Rooms rooms, SubscriberPeer[] subscribers, CancellationToken cancel)
        {
            var at = Stopwatch.GetTimestamp();
            var cpu = rooms.Server.ProcessId is { } pid ? ServerProcess.CpuTime(pid) : null;
            var streams = subscribers.Select(s => s.Subscriber.Streams.Aggregate((Lost: 0L, Expected: 0L, Packets: 0L),
                (sum, x) => x.IsRtx ? (sum.Lost, sum.Expected, sum.Packets + x.Packets) : (sum.Lost + x.Lost, sum.Expected + x.Lost + x.Distinct, sum.Packets + x.Packets))).ToArray();
            var counters = await rooms.Server.CountersAsync(cancel);
            return new Sample(at, rooms.PublisherVideoPacketsSent, cpu, Process.GetCurrentProcess().TotalProcessorTime, counters, streams);
        }
    }
}
