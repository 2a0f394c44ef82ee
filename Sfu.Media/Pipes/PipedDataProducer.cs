using Sfu.Media.DataChannels;
using Sfu.Media.Diagnostics;
using Sfu.Media.Routing;

namespace Sfu.Media.Pipes;

/// <summary>
/// A data track opened on another worker, mirrored on this one: a <see cref="DataProducer"/> for this worker's
/// subscribers, fed with the publisher's messages through a <see cref="WorkerPipe"/>. Worker thread only.
/// </summary>
internal sealed class PipedDataProducer(string trackId, DataChannelParameters parameters, WorkerPipe pipe, DataChannelMetrics metrics)
    : IPipeReceiver, IPipeEntryHandler, IDisposable
{
    public DataProducer Producer { get; } = new(trackId, parameters, metrics);

    public bool Drain(int maxEntries) => pipe.Drain(this, maxEntries);

    void IPipeEntryHandler.Handle(PipeEntry entry)
    {
        if (entry.Kind == PipeEntryKind.Data) Producer.Relay(entry.Tag == 1, entry.Payload);
    }

    public void OnTick(long now)
    {
    }

    public void Dispose()
    {
        pipe.CloseReader();
        Producer.Close();
    }
}
