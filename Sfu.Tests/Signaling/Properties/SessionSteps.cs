using CsCheck;

namespace Sfu.Tests.Signaling.Properties;

/// <summary>One thing that happens to a session and its client, as a property test generates them.</summary>
public abstract record SessionStep
{
    /// <summary>Steps in the proportions a busy session sees them; shrinking removes steps and lowers the numbers.</summary>
    public static Gen<SessionStep[]> Schedule { get; } = Gen.Frequency(
            (6, Gen.Bool.Select(deferred => (SessionStep)new NewRequest(deferred))),
            (2, Gen.Int[1, 40].Select(back => (SessionStep)new RepeatRequest(back))),
            (2, Gen.Const((SessionStep)new FinishRequest())),
            (5, Gen.Const((SessionStep)new ServerEvent())),
            (4, Gen.Int[1, 10].Select(count => (SessionStep)new Read(count))),
            (2, Gen.Const((SessionStep)new Ping())),
            (2, Gen.Const((SessionStep)new DropSocket())),
            (2, Gen.Int[0, 5].Select(back => (SessionStep)new Resume(back))))
        .Array[1, 60];
}

/// <summary>The client sends a request with a new id; the server answers at once, or later (<paramref name="Deferred"/>: in flight).</summary>
public sealed record NewRequest(bool Deferred) : SessionStep;

/// <summary>The client sends again the id it used <paramref name="Back"/> requests ago.</summary>
public sealed record RepeatRequest(int Back) : SessionStep;

/// <summary>The server answers the oldest request still in flight.</summary>
public sealed record FinishRequest : SessionStep;

/// <summary>The room sends the session an event.</summary>
public sealed record ServerEvent : SessionStep;

/// <summary>The client reads up to <paramref name="Count"/> messages that reached its socket.</summary>
public sealed record Read(int Count) : SessionStep;

/// <summary>The client pings with the last seq it has, which lets the server forget what is older.</summary>
public sealed record Ping : SessionStep;

/// <summary>The socket vanishes: whatever the client had not read yet is lost.</summary>
public sealed record DropSocket : SessionStep;

/// <summary>
/// The client resumes on a new socket (abandoning the current one, if the server still thinks it is open) with a
/// lastSeq <paramref name="Back"/> below the highest it has, never below what it acknowledged; then repeats every
/// request it has no response to.
/// </summary>
public sealed record Resume(int Back) : SessionStep;
