using Sfu.Media.Sdp;

namespace Sfu.Media.Routing;

/// <summary>
/// Shares one subscriber transport's available bitrate between its consumers. Audio is served first. Video
/// consumers are raised one layer at a time in turns, so every track gets its lowest layer before any gets a
/// second; a consumer whose lowest layer does not fit is paused rather than starved (after <see cref="PauseHold"/>
/// on its lowest layer, unless it falls far short). A move down happens at once; a move up only once the higher
/// layer has fitted, with a margin, for <see cref="UpgradeHold"/>, so a fluctuating estimate does not make layers flap. No estimate means no limit: every consumer gets the best
/// layer that arrives and its subscriber allows. Pure: no media, no clock of its own; worker thread only.
/// Loops index the lists, because a foreach over an interface would allocate an enumerator on every run.
/// </summary>
public sealed class BitrateAllocator(long timestampFrequency)
{
    /// <summary>How long a higher layer must keep fitting before a consumer moves up to it.</summary>
    public static readonly TimeSpan UpgradeHold = TimeSpan.FromSeconds(2);

    /// <summary>The headroom a move up needs beyond the higher layer's own bitrate, as a fraction of it.</summary>
    public const double UpgradeMargin = 0.15;

    /// <summary>
    /// How long a consumer that has video keeps its lowest layer while it does not quite fit, before it is paused.
    /// A pause is a freeze of seconds (resuming needs the margin, the upgrade hold and a keyframe), while an
    /// estimate cut by congestion (to 85 % of what got through a full queue) often undershoots the link for about a
    /// second; measured in Chromium behind a 400 kbit/s link, pausing at once froze the picture for 3 s.
    /// </summary>
    public static readonly TimeSpan PauseHold = TimeSpan.FromSeconds(2);

    /// <summary>Below this share of its lowest layer's bitrate a consumer is paused at once: that much extra would hurt audio.</summary>
    public const double PauseAtOnceShare = 0.5;

    private readonly long _hold = (long)(UpgradeHold.TotalSeconds * timestampFrequency);
    private readonly long _pauseHold = (long)(PauseHold.TotalSeconds * timestampFrequency);

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
        var left = RaiseInTurns(consumers, Math.Max(0, budget));

        for (var i = 0; i < consumers.Count; i++)
        {
            if (consumers[i].Kind != MediaKind.Audio) Decide(consumers[i], left, now);
        }
    }

    /// <summary>
    /// The transport moved to a new link (a path switch, an ICE restart) and its estimate starts again. A consumer
    /// that the old link's estimate paused is not held paused on the new one: once its layers arrive and the fresh
    /// estimate pays for its lowest one, it resumes there at the next allocation, without the upgrade hold (a
    /// picture matters more than a steady layer). Climbing further waits for the hold as usual.
    /// </summary>
    public static void OnNewLink(IReadOnlyList<LayerAllocation> consumers)
    {
        for (var i = 0; i < consumers.Count; i++) consumers[i].OnNewLink = true;
    }

    /// <summary>
    /// Each round gives every video consumer its next allowed layer, if the rest of the budget pays for the step
    /// (plus the margin when the step goes above what it has now). Rounds go on until no one can move. Returns
    /// the budget left.
    /// </summary>
    private static long RaiseInTurns(IReadOnlyList<LayerAllocation> consumers, long budget)
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
        return budget;
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

    private void Decide(LayerAllocation consumer, long left, long now)
    {
        var proposal = consumer.Proposal;
        if (proposal != LayerAllocation.Paused) consumer.PauseSince = -1;
        else if (HoldsLowestLayer(consumer, left, now)) return;
        if (consumer.Preferences.Paused)
        {
            Settle(consumer, LayerAllocation.Paused, LayerChangeReason.Cap);
            return;
        }
        if (LowestActive(consumer) < 0)
        {
            // Nothing arrives (yet, or for now): keep waiting for the layer it has, unless the subscriber capped it.
            Settle(consumer, Math.Min(consumer.Layer, consumer.Ceiling()), LayerChangeReason.Cap);
            return;
        }
        var current = consumer.Layer;
        if (consumer.OnNewLink)
        {
            consumer.OnNewLink = false;
            if (current == LayerAllocation.Paused && proposal != LayerAllocation.Paused)
            {
                Settle(consumer, NextAllowed(consumer, LayerAllocation.Paused), LayerChangeReason.Bandwidth);
                return;
            }
        }
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

    /// <summary>
    /// A consumer with video whose lowest layer does not fit keeps (or moves down to) that layer for
    /// <see cref="PauseHold"/>, unless what is left of the budget is under half of it. True while it is held.
    /// </summary>
    private bool HoldsLowestLayer(LayerAllocation consumer, long left, long now)
    {
        var lowest = LowestActive(consumer);
        if (consumer.Layer == LayerAllocation.Paused || consumer.Preferences.Paused || lowest < 0
            || left < PauseAtOnceShare * consumer.Layers[lowest].Bitrate)
        {
            consumer.PauseSince = -1;
            return false;
        }
        if (consumer.PauseSince < 0) consumer.PauseSince = now;
        if (now - consumer.PauseSince >= _pauseHold)
        {
            consumer.PauseSince = -1;
            return false;
        }
        Settle(consumer, lowest, lowest == consumer.Layer ? consumer.Reason : ReasonForMove(consumer, lowest));
        return true;
    }

    private static int LowestActive(LayerAllocation consumer)
    {
        for (var i = 0; i < consumer.Layers.Length; i++)
        {
            if (consumer.Layers[i].IsActive) return i;
        }
        return -1;
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
}
