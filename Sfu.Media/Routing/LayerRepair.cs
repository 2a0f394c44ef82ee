using Sfu.Media.Diagnostics;
using Sfu.Media.Rtp;

namespace Sfu.Media.Routing;

/// <summary>
/// Repairs the publisher's uplink for one video layer, as mediasoup and LiveKit do: NACKs the gaps in its sequence
/// numbers (at once for a new gap, then on the transport's tick while retries are due), lets through the
/// retransmissions that fill them, and stops a retransmission nobody asked for (a duplicate, a packet already given
/// up, or the publisher's RTX probing) from reaching subscribers twice. Only for a codec whose publisher negotiated
/// <c>nack</c>. Worker thread only.
/// </summary>
internal sealed class LayerRepair(IUplinkRepairHost owner, TimeProvider time)
{
    // One NACK packet's worth: at 4 bytes per item even scattered losses fit a datagram; the rest wait a tick.
    private const int MaxNackedPerPacket = 128;

    // The SSRC the gaps belong to: a layer restarted under a new one (a new encoder) has a numbering of its own.
    private uint? _ssrc;

    internal NackGenerator Gaps { get; } = new(time);

    /// <summary>
    /// Records a packet of the layer (<paramref name="repaired"/>: restored from RTX) and NACKs what it shows missing.
    /// False when the packet must not be forwarded.
    /// </summary>
    public bool Admit(uint ssrc, ushort sequence, bool repaired, long now)
    {
        if (_ssrc != ssrc)
        {
            _ssrc = ssrc;
            Gaps.Restart();
        }
        switch (Gaps.OnPacketReceived(sequence, now))
        {
            case PacketArrival.Gap:
                SendNacks(ssrc, now);
                return true;
            case PacketArrival.Recovered:
                owner.Host.Metrics.UplinkRepair.PacketRecovered();
                return true;
            case PacketArrival.Old when repaired:
                owner.Host.Metrics.Dropped(DropReason.UnrequestedRetransmission);
                return false;
            default:
                return true;
        }
    }

    /// <summary>Asks again for what is due and counts what was given up; true when the layer needs a keyframe for it.</summary>
    public bool OnTick(uint ssrc, long now)
    {
        SendNacks(ssrc, now);
        var gaveUp = false;
        for (var reason = (NackGiveUpReason)0; reason < NackGiveUpReason.Count; reason++)
        {
            var packets = Gaps.TakeGivenUp(reason);
            if (packets == 0) continue;
            owner.Host.Metrics.UplinkRepair.GaveUp(reason, packets);
            gaveUp = true;
        }
        return gaveUp;
    }

    private void SendNacks(uint ssrc, long now)
    {
        Span<ushort> due = stackalloc ushort[MaxNackedPerPacket];
        var count = Gaps.CollectDue(now, due);
        if (count > 0) owner.SendNack(ssrc, due[..count]);
    }
}
