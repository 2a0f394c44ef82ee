namespace Sfu.Media.Routing;

/// <summary>What a consumer does with one packet of its producer.</summary>
internal enum LayerDecision : byte
{
    /// <summary>Not the layer being forwarded (or the consumer is paused).</summary>
    Drop,

    /// <summary>The layer the consumer waits for, but not at a keyframe yet: drop it and ask for one.</summary>
    DropAndRequestKeyframe,

    Forward,

    /// <summary>The target layer's keyframe: forwarding moves to this layer from this packet on.</summary>
    SwitchAndForward,
}

/// <summary>
/// Which of a producer's layers one consumer forwards. The consumer keeps forwarding its current layer until
/// a keyframe of the target layer arrives, then moves to it, so the subscriber's decoder never gets a picture
/// that refers to frames it never saw. Paused, it forwards nothing and asks for nothing; resumed, it starts again
/// at a keyframe. A stream whose keyframes cannot be seen (audio, unknown codecs) switches at its next packet.
/// While the layers it forwards and waits for have both stopped (<see cref="Stalled"/>), a keyframe of any lower
/// layer restarts the picture there, until the target's own keyframe comes. Worker thread only.
/// </summary>
/// <param name="waitsForKeyframes">Switches wait for a keyframe of the target layer.</param>
internal sealed class LayerSelector(bool waitsForKeyframes)
{
    public const int None = -1;

    /// <summary>The layer being forwarded, or <see cref="None"/> before the first keyframe and while paused.</summary>
    public int Current { get; private set; } = None;

    /// <summary>The layer wanted, or <see cref="None"/> when paused.</summary>
    public int Target { get; private set; } = None;

    public bool IsPaused => Target == None;

    /// <summary>Whether the target's keyframe is still awaited (a switch, a start or a resume is pending).</summary>
    public bool IsSwitching => Target != None && Current != Target;

    /// <summary>
    /// The current layer (if any) and the target have stopped arriving while a lower one still arrives: any lower
    /// layer's keyframe may take over. The owner sets it; it says nothing about a stream without keyframes.
    /// </summary>
    public bool Stalled { get; set; }

    /// <summary>The current layer was taken as a stand-in while the target's stalled, not chosen.</summary>
    public bool FellBack { get; private set; }

    /// <summary>Sets the wanted layer (<see cref="None"/> pauses). True when a keyframe of it must be asked for.</summary>
    public bool SetTarget(int layer)
    {
        if (layer == Target) return false;
        Target = layer;
        FellBack = false;
        if (layer == None) Current = None;
        return waitsForKeyframes && IsSwitching;
    }

    /// <param name="layer">The layer the packet belongs to.</param>
    /// <param name="isKeyframe">It starts a keyframe.</param>
    /// <param name="canStart">
    /// The subscriber can receive now. Until then nothing is asked for: the keyframe would arrive before the
    /// subscriber could take it, and the publisher's throttle would hold back the request made once it can
    /// (for up to the throttle's interval, a second by default, which was the slowest joins' wait).
    /// </param>
    public LayerDecision Decide(int layer, bool isKeyframe, bool canStart)
    {
        if (Target == None) return LayerDecision.Drop;
        if (layer == Target && Current != Target)
        {
            if (waitsForKeyframes && !canStart) return LayerDecision.Drop;
            if (waitsForKeyframes && !isKeyframe) return LayerDecision.DropAndRequestKeyframe;
            Current = Target;
            FellBack = false;
            return LayerDecision.SwitchAndForward;
        }
        if (Stalled && waitsForKeyframes && isKeyframe && canStart && layer < Target && layer != Current)
        {
            Current = layer;
            Stalled = false;
            FellBack = true;
            return LayerDecision.SwitchAndForward;
        }
        return layer == Current ? LayerDecision.Forward : LayerDecision.Drop;
    }
}
