namespace Sfu.Fuzz;

/// <summary>
/// One fuzzing entry point: bytes as they arrive from the network, handed to the real parser or state machine.
/// Input the code under test refuses by its contract (a TryParse returning false, a documented exception such as
/// <c>SdpParseException</c>) is caught here; any other exception escapes and is a bug. The same method runs under
/// AFL++ and in the test suite's smoke run, so what one finds the other reproduces.
/// </summary>
public abstract class FuzzTarget : IDisposable
{
    public abstract void Execute(ReadOnlySpan<byte> input);

    /// <summary>Releases what a target keeps across executions (a DTLS context, a signaling service).</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);
}
