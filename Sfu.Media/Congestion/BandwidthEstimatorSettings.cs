namespace Sfu.Media.Congestion;

/// <summary>The bounds of a subscriber's estimate, bits/s.</summary>
/// <param name="StartBitrate">Where every new link starts: low enough for a phone on a poor cellular link, probed up from at once.</param>
/// <param name="MinBitrate">Never estimated lower: audio and a thumbnail still fit.</param>
/// <param name="MaxBitrate">Never estimated (or probed) higher.</param>
public sealed record BandwidthEstimatorSettings(long StartBitrate = 300_000, long MinBitrate = 50_000, long MaxBitrate = 20_000_000)
{
    public static BandwidthEstimatorSettings Default { get; } = new();
}
