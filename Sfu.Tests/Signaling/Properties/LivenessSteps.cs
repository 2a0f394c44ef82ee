using CsCheck;

namespace Sfu.Tests.Signaling.Properties;

/// <summary>One thing that happens to a room on the clock, as a property test generates them.</summary>
public abstract record LivenessStep
{
    /// <summary>
    /// The liveness sweep's resolution: sweeps run at least this far apart (RoomRegistry's DeadlineTimer), so a rule
    /// falling due less than this after another one is applied up to this late. Schedules keep every event on this grid,
    /// where the rules must hold to the millisecond.
    /// </summary>
    public const int GridMs = 20;

    /// <summary>
    /// Clock advances of every size, with many landing near the 4 s rule (so silences end just before, at and just after
    /// it), between peers joining, speaking and leaving.
    /// </summary>
    public static Gen<LivenessStep[]> Schedule { get; } = Gen.Frequency(
            (5, Gen.Frequency((3, Gen.Int[1, 5]), (3, Gen.Int[195, 205]), (2, Gen.Int[1, 1000]))
                .Select(ticks => (LivenessStep)new Advance(ticks * GridMs))),
            (3, Gen.Int[0, 5].Select(peer => (LivenessStep)new Speak(peer))),
            (2, Gen.Const((LivenessStep)new Join())),
            (1, Gen.Int[0, 5].Select(peer => (LivenessStep)new Leave(peer))))
        .Array[1, 40];
}

/// <summary>The clock moves <paramref name="Milliseconds"/> forward, firing whatever falls due on the way.</summary>
public sealed record Advance(int Milliseconds) : LivenessStep;

/// <summary>Something arrives from the <paramref name="Peer"/>-th peer ever joined (modulo how many joined; nothing if none).</summary>
public sealed record Speak(int Peer) : LivenessStep;

/// <summary>A new peer joins the room (opening it again if it had closed).</summary>
public sealed record Join : LivenessStep;

/// <summary>The <paramref name="Peer"/>-th peer ever joined sends <c>leave</c>.</summary>
public sealed record Leave(int Peer) : LivenessStep;
