namespace Sfu.Media.Congestion;

/// <summary>
/// Keeps one probe cluster at its rate: every packet sent while it runs (media, retransmissions and padding
/// alike, since they all load the link) counts toward the cluster's bytes, and <see cref="PaddingDue"/> says how
/// much padding brings the total up to where the schedule says it should be by the next send opportunity (the
/// worker's tick). A late tick does not turn into a burst: at most <see cref="MaxCatchUp"/> of schedule is made
/// up at once, and the cluster ends on time with whatever it sent. Times are µs. Worker thread only.
/// </summary>
public sealed class ProbePacer
{
    /// <summary>How often the sender gets a chance to send padding: the media worker's tick.</summary>
    public const long SlotUs = 20_000;

    /// <summary>The most schedule one send opportunity makes up for (two slots).</summary>
    public const long MaxCatchUp = 2 * SlotUs;

    private ProbeCluster _cluster;
    private long _startUs;
    private long _sentBytes;
    private int _packets;

    /// <summary>Whether a cluster is running (started and not yet ended).</summary>
    public bool IsActive { get; private set; }

    /// <summary>The running cluster's id, 0 when none runs: what a packet sent now is recorded under.</summary>
    public int ActiveCluster => IsActive ? _cluster.Id : 0;

    /// <summary>When the running cluster started, µs.</summary>
    public long StartUs => _startUs;

    public void Start(ProbeCluster cluster, long nowUs)
    {
        _cluster = cluster;
        _startUs = nowUs;
        _sentBytes = 0;
        _packets = 0;
        IsActive = true;
    }

    /// <summary>A packet was just sent; returns the cluster it belongs to (0: none).</summary>
    public int OnSent(int size)
    {
        if (!IsActive) return 0;
        _sentBytes += size;
        _packets++;
        return _cluster.Id;
    }

    /// <summary>Bytes of padding to send now to keep the running cluster on its schedule (0 when none runs or it is ahead).</summary>
    public int PaddingDue(long nowUs)
    {
        if (!IsActive) return 0;
        var elapsed = nowUs - _startUs + SlotUs;
        var scheduled = Math.Min(_cluster.Bytes, _cluster.Bytes * elapsed / _cluster.DurationUs);
        var due = scheduled - _sentBytes;
        var catchUpLimit = _cluster.TargetBitrate * MaxCatchUp / 8 / 1_000_000;
        return (int)Math.Clamp(due, 0, Math.Max(catchUpLimit, ProbeCluster.MaxPacketBytes));
    }

    /// <summary>Ends the running cluster once its time is up; true once, with its id and how many packets it counted.</summary>
    public bool TryEnd(long nowUs, out int clusterId, out int packets)
    {
        clusterId = _cluster.Id;
        packets = _packets;
        if (!IsActive || nowUs - _startUs < _cluster.DurationUs) return false;
        IsActive = false;
        return true;
    }

    /// <summary>Drops the running cluster (a new link: what it would measure belongs to the old one).</summary>
    public void Stop() => IsActive = false;
}
