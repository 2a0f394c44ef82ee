namespace Sfu.Media.Congestion;

/// <summary>
/// A receive-side bandwidth estimate for REMB, for publishers that negotiated goog-remb but not transport-cc.
/// Deliberately simple; once a second it looks at the rate that arrived and the share of packets lost:
/// <list type="bullet">
/// <item>under 2% lost: the estimate is 1.5 times the incoming rate (at least <see cref="StartBitrate"/>), so a
/// sender limited by it can still grow by half each second;</item>
/// <item>2-10% lost: the estimate holds;</item>
/// <item>over 10% lost: the estimate falls to the incoming rate less half the loss (at least <see cref="MinBitrate"/>).</item>
/// </list>
/// It never exceeds the ceiling (<c>Sfu:Media:MaxPublishBitrate</c>). The thresholds are those of libwebrtc's
/// loss-based controller, which the sender runs on top of this anyway.
/// </summary>
public sealed class RemoteEstimator(long maxBitrate)
{
    /// <summary>libwebrtc's start bitrate: below it the estimate would hold back a sender that has not begun.</summary>
    public const long StartBitrate = 300_000;

    public const long MinBitrate = 50_000;

    private const double Headroom = 1.5;
    private const double HoldLoss = 0.02;
    private const double DecreaseLoss = 0.10;

    public long Estimate { get; private set; } = Math.Min(StartBitrate, maxBitrate);

    /// <summary>Updates the estimate from the last period's incoming rate (bits/s) and fraction of packets lost (0-1).</summary>
    public long Update(long incomingBitsPerSecond, double lossFraction)
    {
        long estimate = lossFraction switch
        {
            < HoldLoss => Math.Max(StartBitrate, (long)(incomingBitsPerSecond * Headroom)),
            <= DecreaseLoss => Estimate,
            _ => Math.Max(MinBitrate, (long)(incomingBitsPerSecond * (1 - (0.5 * lossFraction)))),
        };
        Estimate = Math.Min(estimate, maxBitrate);
        return Estimate;
    }
}
