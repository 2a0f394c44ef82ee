using CsCheck;

namespace Sfu.Tests.Signaling.Properties;

/// <summary>
/// The session's delivery promises (PROTOCOL.md: seq, resume, repeated ids) on every schedule CsCheck generates of
/// requests (answered at once or later), events, reads, pings, socket drops and resumes. A failure is shrunk to the
/// shortest schedule that still breaks the promise and printed step by step with the violation.
/// </summary>
public sealed class SessionProperties
{
    private static readonly Gen<(int ReplayCapacity, SessionStep[] Steps)> Runs =
        Gen.Select(Gen.Int[1, 64], SessionStep.Schedule);

    [Test]
    public void AnySchedule_ClientGetsEverySeqOnce_InOrder_WithExactReplays_AndNoRequestRunsTwice() =>
        Runs.Sample(run => new SessionHarness(run.ReplayCapacity).Run(run.Steps), iter: 2000, threads: 1);
}
