namespace Sfu.Media.Routing;

/// <summary>
/// What a subscriber asked for one track: a highest layer, a largest picture (the smallest layer that covers
/// this box is enough), a highest temporal layer (frame rate; VP8 with temporal layers), or nothing at all.
/// Null fields mean no limit.
/// </summary>
public sealed record LayerPreferences(int? MaxLayer = null, int? MaxWidth = null, int? MaxHeight = null, bool Paused = false, int? MaxTemporalLayer = null)
{
    public static LayerPreferences None { get; } = new();
}

/// <summary>Why a consumer's layer changed; each is a label value of the layer switch metric and of the client event.</summary>
public enum LayerChangeReason
{
    /// <summary>The available bitrate fits a higher layer, or no longer fits the current one.</summary>
    Bandwidth,

    /// <summary>The subscriber's preferences (a cap, a pause or a resume).</summary>
    Cap,

    /// <summary>The publisher stopped sending the layer being forwarded.</summary>
    LayerLost,
}

public static class LayerChangeReasons
{
    /// <summary>Every reason, in enum order.</summary>
    public static readonly LayerChangeReason[] All = [LayerChangeReason.Bandwidth, LayerChangeReason.Cap, LayerChangeReason.LayerLost];

    /// <summary>The reason as the protocol and the metrics spell it.</summary>
    public static string Label(this LayerChangeReason reason) => reason switch
    {
        LayerChangeReason.Bandwidth => "bandwidth",
        LayerChangeReason.Cap => "cap",
        _ => "layer-lost",
    };
}
