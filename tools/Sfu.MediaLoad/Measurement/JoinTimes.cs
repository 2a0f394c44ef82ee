using System.Diagnostics;

namespace Sfu.MediaLoad.Measurement;

/// <summary>
/// Join time: from the moment a subscriber starts opening its WebSocket to the first key frame it received whole
/// (every packet from the frame's first to its marker) and decrypted, one subscriber at a time into a room whose
/// publisher is sending. Each joiner leaves before the next; the pause between joins is longer than the one-per-second
/// limit both servers put on key frame requests to a publisher, so each join's request goes out at once.
/// </summary>
static class JoinTimes
{
    private static readonly TimeSpan KeyframeWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(1200);
    private static readonly TimeSpan SlowJoin = TimeSpan.FromMilliseconds(250);

    /// <returns>Milliseconds to the first whole key frame, and (for the log) to the first video packet of any kind.</returns>
    public static async Task<List<double>> RunAsync(Rooms rooms, int joins, Action<string> log, CancellationToken cancel)
    {
        var milliseconds = new List<double>();
        var firstPackets = new List<double>();
        for (int i = 0; i < joins; i++)
        {
            // A lone subscriber joins the emptiest room, the first.
            var publisher = rooms.Publishers[0].Publisher;
            long requestsBefore = publisher.PlisReceived + publisher.FirsReceived, keyframesBefore = publisher.KeyframesSent;
            var peer = await rooms.AddSubscriberAsync(cancel);
            var connectedAt = Stopwatch.GetTimestamp();
            long requestsAtConnect = publisher.PlisReceived + publisher.FirsReceived, keyframesAtConnect = publisher.KeyframesSent;
            try
            {
                var deadline = Stopwatch.GetTimestamp() + (long)(KeyframeWait.TotalSeconds * Stopwatch.Frequency);
                long at;
                while ((at = Rooms.Video(peer.Subscriber)?.FirstCompleteKeyframeAt ?? 0) == 0)
                {
                    if (Stopwatch.GetTimestamp() > deadline) throw new TimeoutException($"join {i + 1}: no whole key frame within {KeyframeWait.TotalSeconds} s");
                    await Task.Delay(1, cancel);
                }

                var joinMs = (at - peer.OpenedAt) * 1000.0 / Stopwatch.Frequency;
                milliseconds.Add(joinMs);
                if (joinMs > SlowJoin.TotalMilliseconds)
                {
                    // Where a slow join waited: before or after its transport connected, and for which key frame request.
                    var connectedMs = (connectedAt - peer.OpenedAt) * 1000.0 / Stopwatch.Frequency;
                    long requestsAfter = publisher.PlisReceived + publisher.FirsReceived - requestsAtConnect, keyframesAfter = publisher.KeyframesSent - keyframesAtConnect;
                    log(Report.Invariant($"  join {i + 1}: {joinMs:F1} ms, transport connected at {connectedMs:F1} ms; publisher got {requestsAtConnect - requestsBefore} key frame requests and sent {keyframesAtConnect - keyframesBefore} key frames before that, {requestsAfter} and {keyframesAfter} after"));
                }

                firstPackets.Add((Rooms.Video(peer.Subscriber)!.FirstAt - peer.OpenedAt) * 1000.0 / Stopwatch.Frequency);
            }
            finally
            {
                await rooms.RemoveAsync(peer);
            }

            if ((i + 1) % 10 == 0 || i + 1 == joins)
                log(Report.Invariant($"  {i + 1}/{joins} joins; to the first whole key frame p50 {Report.Percentile(milliseconds, 0.5):F1} ms, to the first video packet p50 {Report.Percentile(firstPackets, 0.5):F1} ms"));
            // Plus up to one frame interval at random, so that joins do not all land at the same phase of the 30 fps clock.
            await Task.Delay(Pause + TimeSpan.FromMilliseconds(Random.Shared.Next(34)), cancel);
        }

        return milliseconds;
    }
}
