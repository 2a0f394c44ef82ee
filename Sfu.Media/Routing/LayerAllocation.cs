using Sfu.Media.Sdp;

namespace Sfu.Media.Routing;

/// <summary>A layer as the allocator sees it: measured bitrate, whether it arrives, and its picture size (0 if unknown).</summary>
public readonly record struct LayerFigures(long Bitrate, bool IsActive, int Width = 0, int Height = 0);

/// <summary>
/// One consumer's entry in its subscriber's <see cref="BitrateAllocator"/>: the input (kind, each layer's figures,
/// the subscriber's preferences) and the decision (a layer, or paused, and why it changed), with the allocator's
/// memory of a pending upgrade for hysteresis. Plain data, so the allocator can be tested without media.
/// </summary>
public sealed class LayerAllocation
{
    public const int Paused = -1;

    /// <summary>Starts on the best layer, as a consumer does before the allocator first runs.</summary>
    public LayerAllocation(MediaKind kind, int layerCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layerCount);
        Kind = kind;
        Layers = new LayerFigures[layerCount];
        Layer = layerCount - 1;
    }

    internal LayerAllocation(Producer producer)
        : this(producer.Kind, producer.SelectableLayerCount)
    {
    }

    public MediaKind Kind { get; }

    /// <summary>Each layer's figures, lowest first; the owner refreshes them before each allocation.</summary>
    public LayerFigures[] Layers { get; }

    public LayerPreferences Preferences { get; private set; } = LayerPreferences.None;

    /// <summary>The chosen layer, or <see cref="Paused"/>.</summary>
    public int Layer { get; private set; }

    /// <summary>Why <see cref="Layer"/> last changed.</summary>
    public LayerChangeReason Reason { get; private set; }

    /// <summary>The last allocation changed <see cref="Layer"/>.</summary>
    public bool Changed { get; private set; }

    // The allocator's scratch and memory: the layer it would give now, and since when a higher one has fitted.
    internal int Proposal { get; set; }

    internal long UpgradeSince { get; set; } = -1;

    internal int UpgradeTo { get; set; } = Paused;

    /// <summary>Since when even the lowest layer has not fitted, while the consumer still has video (-1: it fits).</summary>
    internal long PauseSince { get; set; } = -1;

    internal bool PreferencesChanged { get; private set; }

    /// <summary>Its transport is on a new link and the allocator has not decided for it there yet (layers arriving).</summary>
    internal bool OnNewLink { get; set; }

    public void SetPreferences(LayerPreferences preferences)
    {
        if (preferences == Preferences) return;
        Preferences = preferences;
        PreferencesChanged = true;
    }

    /// <summary>
    /// Takes <paramref name="layer"/> as the layer it has, without a decision, a reason or a count: for an SVC consumer
    /// that started on the highest spatial layer VP9 can number, once its stream shows it has fewer. Moving off a layer
    /// that was never there is not a change anyone should hear of (nor a layer lost).
    /// </summary>
    internal void Assume(int layer) => Layer = layer;

    internal void Decide(int layer, LayerChangeReason reason)
    {
        Changed = layer != Layer;
        if (Changed)
        {
            Layer = layer;
            Reason = reason;
        }
        PreferencesChanged = false;
    }

    /// <summary>
    /// What this consumer needs to be sent its best arriving layer within its subscriber's ceiling (bits/s), nothing
    /// while paused by its subscriber. The estimator probes up to this figure, so for a layer above the one it has
    /// it includes the margin a move up needs, twice: once for the allocator's own check, once for the layer's swings
    /// (keyframes, an encoder's ups and downs) between the probe and the next allocation. Without it a probe would
    /// find exactly the layer's rate, never enough to move up to it.
    /// </summary>
    internal long DesiredBitrate()
    {
        if (Preferences.Paused) return 0;
        var ceiling = Ceiling();
        for (var layer = Math.Min(ceiling, Layers.Length - 1); layer >= 0; layer--)
        {
            if (!Layers[layer].IsActive) continue;
            var rate = Layers[layer].Bitrate;
            return layer > Layer ? rate + (long)(2 * BitrateAllocator.UpgradeMargin * rate) : rate;
        }
        return 0;
    }

    /// <summary>The highest layer the preferences allow (a size cap picks the smallest layer covering the box).</summary>
    internal int Ceiling()
    {
        var ceiling = Layers.Length - 1;
        if (Preferences.MaxLayer is { } maxLayer) ceiling = Math.Min(ceiling, maxLayer);
        if (Preferences.MaxWidth is null && Preferences.MaxHeight is null) return ceiling;
        for (var i = 0; i <= ceiling; i++)
        {
            var layer = Layers[i];
            if (layer.Width == 0) continue;
            if (layer.Width >= (Preferences.MaxWidth ?? 0) && layer.Height >= (Preferences.MaxHeight ?? 0)) return i;
        }
        return ceiling;
    }
}
