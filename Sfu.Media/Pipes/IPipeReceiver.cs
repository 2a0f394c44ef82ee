namespace Sfu.Media.Pipes;

/// <summary>
/// The reading end of a <see cref="WorkerPipe"/>, registered with the worker it lives on, which drains it every loop
/// turn and ticks it with its timers. Worker thread only.
/// </summary>
internal interface IPipeReceiver
{
    /// <summary>Handles up to <paramref name="maxEntries"/> waiting entries; true when more remain.</summary>
    bool Drain(int maxEntries);

    void OnTick(long now);
}
