using Sfu.Media.Sdp;

namespace Sfu.Media.Routing;

/// <summary>
/// Shares one subscriber transport's available bitrate between its consumers. Audio is served first. Video
/// consumers are raised one layer at a time in turns, so every track gets its lowest layer before any gets a
/// second; a consumer whose lowest layer does not fit is paused rather than starved. A move down happens at
/// once; a move up only once the higher layer has fitted, with a margin, for <see cref="UpgradeHold"/>, so a
/// fluctuating estimate does not make layers flap. No estimate means no limit: every consumer gets the best
/// layer that arrives and its subscriber allows. Pure: no media, no clock of its own; worker thread only.
/// Loops index the lists, because a foreach over an interface would allocate an enumerator on every run.
/// </summary>
public sealed class BitrateAllocator(long timestampFrequency)
{
    /// <summary>How long a higher layer must keep fitting before a consumer moves up to it.</summary>
    public static readonly TimeSpan UpgradeHold = TimeSpan.FromSeconds(2);

    /// <summary>The headroom a move up needs beyond the higher layer's own bitrate, as a fraction of it.</summary>
    public const double UpgradeMargin = 0.15;

    private readonly long _hold = (long)(UpgradeHold.TotalSeconds * timestampFrequency);

    /// <param name="available">Bits per second the transport may send, or null when there is no estimate yet.</param>
    /// <param name="consumers">Every consumer of the transport, their figures refreshed.</param>
    /// <param name="now">The current time, in <c>timestampFrequency</c> units.</param>
    public void Allocate(long? available, IReadOnlyList<LayerAllocation> consumers, long now)
    {
        var budget = available ?? long.MaxValue;
        for (var i = 0; i < consumers.Count; i++)
        {
            var consumer = consumers[i];
            if (consumer.Kind != MediaKind.Audio) continue;
            var layer = consumer.Preferences.Paused ? LayerAllocation.Paused : 0;
            if (layer == 0) budget -= consumer.Layers[0].Bitrate;
            consumer.Decide(layer, LayerChangeReason.Cap);
        }

        for (var i = 0; i < consumers.Count; i++) consumers[i].Proposal = LayerAllocation.Paused;
        RaiseInTurns(consumers, Math.Max(0, budget));

        for (var i = 0; i < consumers.Count; i++)
        {
            if (consumers[i].Kind != MediaKind.Audio) Decide(consumers[i], now);
        }
    }

    /// <summary>
    /// Each round gives every video consumer its next allowed layer, if the rest of the budget pays for the step
    /// (plus the margin when the step goes above what it has now). Rounds go on until no one can move.
    /// </summary>
    private static void RaiseInTurns(IReadOnlyList<LayerAllocation> consumers, long budget)
    {
        bool raised;
        do
        {
            raised = false;
            for (var i = 0; i < consumers.Count; i++)
            {
                var consumer = consumers[i];
                if (consumer.Kind == MediaKind.Audio || consumer.Preferences.Paused) continue;
                var next = NextAllowed(consumer, consumer.Proposal);
                if (next < 0) continue;
                var nextRate = consumer.Layers[next].Bitrate;
                var cost = nextRate - (consumer.Proposal >= 0 ? consumer.Layers[consumer.Proposal].Bitrate : 0);
                var margin = next > consumer.Layer ? (long)(nextRate * UpgradeMargin) : 0;
                if (Math.Max(0, cost) + margin > budget) continue;
                budget -= Math.Max(0, cost);
                consumer.Proposal = next;
                raised = true;
            }
        }
        while (raised);
    }

    /// <summary>
    /// The next layer above <paramref name="from"/> that arrives and is within the subscriber's ceiling. When no
    /// arriving layer is within it, the lowest arriving one is allowed anyway: a small picture beats none.
    /// </summary>
    private static int NextAllowed(LayerAllocation consumer, int from)
    {
        var ceiling = consumer.Ceiling();
        for (var i = from + 1; i <= ceiling; i++)
        {
            if (consumer.Layers[i].IsActive) return i;
        }
        if (from >= 0) return -1;
        for (var i = ceiling + 1; i < consumer.Layers.Length; i++)
        {
            if (consumer.Layers[i].IsActive) return i;
        }
        return -1;
    }

    private void Decide(LayerAllocation consumer, long now)
    {
        var proposal = consumer.Proposal;
        if (consumer.Preferences.Paused)
        {
            Settle(consumer, LayerAllocation.Paused, LayerChangeReason.Cap);
            return;
        }
        if (!AnyActive(consumer))
        {
            // Nothing arrives (yet, or for now): keep waiting for the layer it has, unless the subscriber capped it.
            Settle(consumer, Math.Min(consumer.Layer, consumer.Ceiling()), LayerChangeReason.Cap);
            return;
        }
        var current = consumer.Layer;
        if (proposal <= current || (current >= 0 && !consumer.Layers[current].IsActive))
        {
            Settle(consumer, proposal, ReasonForMove(consumer, proposal));
            return;
        }
        // A subscriber that raises its cap or resumes gets the answer at once, if the bandwidth allows it.
        if (consumer.PreferencesChanged)
        {
            Settle(consumer, proposal, LayerChangeReason.Cap);
            return;
        }
        if (consumer.UpgradeSince < 0 || consumer.UpgradeTo != proposal)
        {
            // A different higher layer restarts the wait only if it is lower: it has fitted at least as long.
            if (consumer.UpgradeSince < 0 || proposal > consumer.UpgradeTo) consumer.UpgradeSince = now;
            consumer.UpgradeTo = proposal;
        }
        if (now - consumer.UpgradeSince >= _hold) Settle(consumer, proposal, LayerChangeReason.Bandwidth);
        else consumer.Decide(current, consumer.Reason);
    }

    private static void Settle(LayerAllocation consumer, int layer, LayerChangeReason reason)
    {
        consumer.UpgradeSince = -1;
        consumer.UpgradeTo = LayerAllocation.Paused;
        consumer.Decide(layer, reason);
    }

    /// <summary>Why a consumer leaves its layer for <paramref name="proposal"/>: down, or off a layer that stopped.</summary>
    private static LayerChangeReason ReasonForMove(LayerAllocation consumer, int proposal)
    {
        var current = consumer.Layer;
        if (current >= 0 && !consumer.Layers[current].IsActive) return LayerChangeReason.LayerLost;
        if (consumer.PreferencesChanged || (current > consumer.Ceiling() && proposal <= consumer.Ceiling())) return LayerChangeReason.Cap;
        return LayerChangeReason.Bandwidth;
    }

    private static bool AnyActive(LayerAllocation consumer)
    {
        foreach (var layer in consumer.Layers)
        {
            if (layer.IsActive) return true;
        }
        return false;
    }
}
