using CsCheck;

namespace Sfu.Tests.Signaling.Properties;

/// <summary>
/// The liveness rules (PROTOCOL.md: interrupted at 4 s of silence, removed at 20 s, an empty room closed after 10 s)
/// on every schedule CsCheck generates of joins, activity, leaves and clock advances, against the real room registry
/// on a manual clock. A failure is shrunk to the shortest schedule that still breaks a rule.
/// Events happen on a 20 ms grid (<see cref="LivenessStep.GridMs"/>): off it, two peers whose silences reach 4 s less
/// than 20 ms apart see the second one's <c>interrupted</c> up to 20 ms late (e.g. due at 4013 ms, sent at 4020 ms),
/// because the registry's one timer sweeps at most every 20 ms.
/// </summary>
public sealed class LivenessProperties
{
    [Test]
    public void AnySchedule_InterruptedRemovedAndClosed_ExactlyWhenTheRulesSay() =>
        LivenessStep.Schedule.Sample(steps =>
        {
            using var harness = new LivenessHarness();
            harness.Run(steps);
        }, iter: 600, threads: 1);
}
