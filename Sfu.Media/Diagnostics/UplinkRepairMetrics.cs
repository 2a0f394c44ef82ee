using Prometheus;
using Sfu.Media.Rtp;

namespace Sfu.Media.Diagnostics;

/// <summary>
/// Repair of publishers' uplinks (docs/OPERATIONS.md): NACKs sent to publishers, the packets they asked for, those that
/// arrived after all, and those given up by reason. One instance for the whole server: these happen per lost packet,
/// far more rarely than packets, so an interlocked add from whichever worker owns the publisher costs nothing that shows.
/// </summary>
public sealed class UplinkRepairMetrics
{
    private static readonly string[] GiveUpLabels = [.. Enum.GetValues<NackGiveUpReason>().Where(r => r != NackGiveUpReason.Count).Select(r => MetricLabels.Kebab(r.ToString()))];

    private readonly long[] _givenUp = new long[(int)NackGiveUpReason.Count];
    private long _nacksSent;
    private long _nackedPackets;
    private long _recovered;

    public UplinkRepairMetrics(CollectorRegistry registry)
    {
        var factory = MetricFactories.For(registry);
        var nacks = factory.CreateCounter("sfu_media_publisher_nacks_sent_total", "Generic NACK packets sent to publishers for their lost video packets.");
        var nacked = factory.CreateCounter("sfu_media_publisher_nacked_packets_total", "Sequence numbers asked of publishers in NACKs, retries included.");
        var recovered = factory.CreateCounter("sfu_media_publisher_packets_recovered_total",
            "Publisher packets found missing that arrived after all (retransmitted or late) and were forwarded.");
        var givenUp = factory.CreateCounter("sfu_media_publisher_nack_give_ups_total",
            "Missing publisher packets no longer asked for, by reason (retries, too-old, overflow); each time the layer's keyframe is requested.", ["reason"]);
        var givenUpChildren = GiveUpLabels.Select(label => givenUp.WithLabels(label)).ToArray();
        registry.AddBeforeCollectCallback(() =>
        {
            nacks.IncTo(NacksSent);
            nacked.IncTo(Volatile.Read(ref _nackedPackets));
            recovered.IncTo(PacketsRecovered);
            for (var i = 0; i < givenUpChildren.Length; i++) givenUpChildren[i].IncTo(GivenUp((NackGiveUpReason)i));
        });
    }

    internal long NacksSent => Volatile.Read(ref _nacksSent);

    internal long PacketsRecovered => Volatile.Read(ref _recovered);

    internal long GivenUp(NackGiveUpReason reason) => Volatile.Read(ref _givenUp[(int)reason]);

    internal void NackSent(int packets)
    {
        Interlocked.Increment(ref _nacksSent);
        Interlocked.Add(ref _nackedPackets, packets);
    }

    internal void PacketRecovered() => Interlocked.Increment(ref _recovered);

    internal void GaveUp(NackGiveUpReason reason, int packets) => Interlocked.Add(ref _givenUp[(int)reason], packets);
}
