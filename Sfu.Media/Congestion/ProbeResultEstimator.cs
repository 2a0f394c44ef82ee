namespace Sfu.Media.Congestion;

/// <summary>
/// Measures what a probe cluster found: the rate at which its packets arrived (the bottleneck drains a burst at
/// its own speed), not above the cluster's target (the cluster tested only that much). A cluster is judged once
/// most of its packets were reported on; a few clusters are tracked at a time, in fixed slots.
/// </summary>
public sealed class ProbeResultEstimator
{
    private const int Slots = 4;
    private const double MinReportedShare = 0.8;

    private readonly Cluster[] _clusters = new Cluster[Slots];

    /// <summary>The cluster is about to be sent: start collecting its feedback.</summary>
    public void Begin(ProbeCluster cluster)
    {
        var slot = 0;
        for (var i = 1; i < Slots; i++)
        {
            if (_clusters[i].Id < _clusters[slot].Id) slot = i;
        }
        _clusters[slot] = new Cluster { Id = cluster.Id, Target = cluster.TargetBitrate, Expected = cluster.PacketCount, FirstArrivalUs = long.MaxValue };
    }

    /// <summary>
    /// Feedback on one probe packet; true the moment its cluster is judged and found to carry
    /// <paramref name="bitrate"/> (bits/s) of the <paramref name="target"/> it tested.
    /// </summary>
    public bool OnFeedback(int clusterId, bool received, int size, long arrivalTimeUs, out long bitrate, out long target)
    {
        bitrate = target = 0;
        for (var i = 0; i < Slots; i++)
        {
            ref var cluster = ref _clusters[i];
            if (cluster.Id != clusterId || cluster.Judged) continue;
            cluster.Reported++;
            if (received)
            {
                cluster.Received++;
                cluster.Bytes += size;
                if (arrivalTimeUs < cluster.FirstArrivalUs)
                {
                    cluster.FirstArrivalUs = arrivalTimeUs;
                    cluster.FirstSize = size;
                }
                cluster.LastArrivalUs = Math.Max(cluster.LastArrivalUs, arrivalTimeUs);
            }
            if (cluster.Reported < Math.Ceiling(cluster.Expected * MinReportedShare)) return false;
            cluster.Judged = true;
            if (cluster.Received < Math.Ceiling(cluster.Expected * MinReportedShare)) return false; // lost: the link did not carry it
            var spanUs = cluster.LastArrivalUs - cluster.FirstArrivalUs;
            target = cluster.Target;
            // Arrived within the feedback's 250 µs resolution: the link is faster than anything measured here.
            bitrate = spanUs <= 0 ? cluster.Target : Math.Min((cluster.Bytes - cluster.FirstSize) * 8 * 1_000_000 / spanUs, cluster.Target);
            return true;
        }
        return false;
    }

    public void Reset() => Array.Clear(_clusters);

    private struct Cluster
    {
        public int Id;
        public long Target;
        public int Expected;
        public int Reported;
        public int Received;
        public long Bytes;
        public int FirstSize;
        public long FirstArrivalUs;
        public long LastArrivalUs;
        public bool Judged;
    }
}
