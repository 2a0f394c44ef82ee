namespace Sfu.Media.Congestion;

/// <summary>
/// A short burst sent faster than the estimate to see whether the link carries it: <see cref="Bytes"/> in
/// packets of at most <see cref="MaxPacketBytes"/>, and at least <see cref="MinPackets"/> of them.
/// </summary>
/// <param name="Id">Non-zero; every packet of the cluster is recorded under it.</param>
/// <param name="TargetBitrate">The rate the cluster tests, bits/s.</param>
/// <param name="Bytes">How much to send: <see cref="Duration"/> worth at the target rate.</param>
public readonly record struct ProbeCluster(int Id, long TargetBitrate, int Bytes)
{
    /// <summary>How much sending time a cluster stands for (libwebrtc uses 15 ms too).</summary>
    public static readonly TimeSpan Duration = TimeSpan.FromMilliseconds(15);

    /// <summary>Padding an RTP packet can carry (its padding-length byte), rounded down to whole 32-bit words.</summary>
    public const int MaxPacketBytes = 252;

    public const int MinPackets = 5;

    public const int MaxPackets = 64;

    public static ProbeCluster For(int id, long targetBitrate)
    {
        var bytes = (int)Math.Min(targetBitrate * Duration.Ticks / TimeSpan.TicksPerSecond / 8, (long)MaxPackets * MaxPacketBytes);
        return new ProbeCluster(id, targetBitrate, Math.Max(bytes, MinPackets * MaxPacketBytes / 2));
    }

    /// <summary>How many packets carry <see cref="Bytes"/>: enough to respect both the packet size and the minimum count.</summary>
    public int PacketCount => Math.Clamp((Bytes + MaxPacketBytes - 1) / MaxPacketBytes, MinPackets, MaxPackets);

    /// <summary>Padding bytes in each packet (a multiple of 4, at most <see cref="MaxPacketBytes"/>).</summary>
    public int PaddingPerPacket => Math.Clamp(Bytes / PacketCount / 4 * 4, 4, MaxPacketBytes);
}
