namespace Sfu.Media.Congestion;

/// <summary>
/// Measures what a probe cluster found, from the packets sent in its second half: by then a token bucket's burst is
/// spent and a queue has formed, so they arrive at the bottleneck's own rate; the first half's arrivals, passed at
/// the sender's pace by a full bucket, would promise more than the link carries. The result is the lower of the
/// rate they were sent at and the rate they arrived at (a late tick sends slower than the target, and the link
/// proved only what it was given), never above the cluster's target, and a little under an arrival rate clearly
/// below the send rate (the link was found: sit just under it rather than on it). A cluster is judged once it
/// has ended and most of its packets were reported on; a few clusters are tracked at a time, in fixed slots.
/// </summary>
public sealed class ProbeResultEstimator
{
    private const int Slots = 4;
    private const double MinReportedShare = 0.8;
    // With fewer second-half arrivals than this (a cluster sent in one go), all its arrivals are measured.
    private const int MinTailPackets = 4;
    // Arriving at under this share of the send rate found the link's limit, taken at FoundLimitShare of itself.
    private const double FoundLimitBelow = 0.9;
    private const double FoundLimitShare = 0.95;

    private readonly Cluster[] _clusters = new Cluster[Slots];

    /// <summary>The cluster starts now: collect its feedback.</summary>
    public void Begin(ProbeCluster cluster, long startUs)
    {
        var slot = 0;
        for (var i = 1; i < Slots; i++)
        {
            if (_clusters[i].Id < _clusters[slot].Id) slot = i;
        }
        _clusters[slot] = new Cluster
        {
            Id = cluster.Id,
            Target = cluster.TargetBitrate,
            TailFromUs = startUs + (cluster.DurationUs / 2),
            Expected = -1,
            All = Arrivals.Empty,
            Tail = Arrivals.Empty,
        };
    }

    /// <summary>The cluster ended after <paramref name="packets"/> packets; it can be judged from now on.</summary>
    public void End(int clusterId, int packets)
    {
        for (var i = 0; i < Slots; i++)
        {
            if (_clusters[i].Id == clusterId) _clusters[i].Expected = packets;
        }
    }

    /// <summary>
    /// Feedback on one packet of the cluster; true the moment the cluster is judged and found to carry
    /// <paramref name="bitrate"/> (bits/s) of the <paramref name="target"/> it tested.
    /// </summary>
    public bool OnFeedback(int clusterId, bool received, int size, long sendTimeUs, long arrivalTimeUs, out long bitrate, out long target)
    {
        bitrate = target = 0;
        for (var i = 0; i < Slots; i++)
        {
            ref var cluster = ref _clusters[i];
            if (cluster.Id != clusterId || cluster.Judged) continue;
            cluster.Reported++;
            if (received)
            {
                cluster.All.Add(size, sendTimeUs, arrivalTimeUs);
                if (sendTimeUs >= cluster.TailFromUs) cluster.Tail.Add(size, sendTimeUs, arrivalTimeUs);
            }
            if (cluster.Expected < 0 || cluster.Reported < Math.Ceiling(cluster.Expected * MinReportedShare)) return false;
            cluster.Judged = true;
            // Lost: the link did not carry it.
            if (cluster.All.Packets < Math.Ceiling(cluster.Expected * MinReportedShare)) return false;
            target = cluster.Target;
            var measured = cluster.Tail.Packets >= MinTailPackets ? cluster.Tail : cluster.All;
            var (sent, arrived) = (measured.SendBitrate(cluster.Target), measured.ArrivalBitrate(cluster.Target));
            bitrate = Math.Min(cluster.Target, arrived < FoundLimitBelow * sent ? (long)(FoundLimitShare * arrived) : Math.Min(sent, arrived));
            return true;
        }
        return false;
    }

    public void Reset() => Array.Clear(_clusters);

    private struct Cluster
    {
        public int Id;
        public long Target;
        public long TailFromUs;
        public int Expected;
        public int Reported;
        public bool Judged;
        public Arrivals All;
        public Arrivals Tail;
    }

    /// <summary>Received packets of (part of) a cluster: their bytes, and the spans of their sending and arrivals.</summary>
    private struct Arrivals
    {
        public static readonly Arrivals Empty = new() { FirstArrivalUs = long.MaxValue, LastArrivalUs = long.MinValue, FirstSendUs = long.MaxValue, LastSendUs = long.MinValue };

        public int Packets;
        public long Bytes;
        public int FirstArrivalSize;
        public long FirstArrivalUs;
        public long LastArrivalUs;
        public int LastSendSize;
        public long FirstSendUs;
        public long LastSendUs;

        public void Add(int size, long sendUs, long arrivalUs)
        {
            Packets++;
            Bytes += size;
            if (arrivalUs < FirstArrivalUs)
            {
                FirstArrivalUs = arrivalUs;
                FirstArrivalSize = size;
            }
            LastArrivalUs = Math.Max(LastArrivalUs, arrivalUs);
            FirstSendUs = Math.Min(FirstSendUs, sendUs);
            if (sendUs >= LastSendUs)
            {
                LastSendUs = sendUs;
                LastSendSize = size;
            }
        }

        /// <summary>Bytes after the first over the arrivals' span (the first one's bytes arrived before it began).</summary>
        public readonly long ArrivalBitrate(long whenInstant) => Rate(Bytes - FirstArrivalSize, LastArrivalUs - FirstArrivalUs, whenInstant);

        /// <summary>Bytes before the last over the sends' span (the last one's bytes left after it ended).</summary>
        public readonly long SendBitrate(long whenInstant) => Rate(Bytes - LastSendSize, LastSendUs - FirstSendUs, whenInstant);

        // Within the clock's (or the feedback's 250 µs) resolution: faster than anything measurable here.
        private static long Rate(long bytes, long spanUs, long whenInstant) => spanUs <= 0 ? whenInstant : bytes * 8 * 1_000_000 / spanUs;
    }
}
