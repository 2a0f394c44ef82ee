using Sfu.Media.Rtp;

namespace Sfu.Media.Routing;

/// <summary>
/// The spatial layers inside one VP9 stream (one SSRC), as a publisher sends with SVC (<c>L3T3_KEY</c>, <c>L2T3</c>):
/// each layer's rate and frame rate, measured from the layer indices of the payload descriptors, and its picture
/// size, from the scalability structure the keyframes carry. A subscriber of layer <c>n</c> needs every layer up to
/// <c>n</c> (each is coded on top of the one below), so the figures given to the allocator are cumulative. A stream
/// without layer indices is all layer 0. Worker thread only.
/// </summary>
internal sealed class SpatialLayers
{
    /// <summary>Spatial layers a VP9 stream can number (SID is three bits).</summary>
    public const int MaxCount = Vp9PayloadDescriptor.MaxSpatialLayers;

    private readonly LayerRateMeter[] _meters = new LayerRateMeter[MaxCount];
    private readonly int[] _widths = new int[MaxCount];
    private readonly int[] _heights = new int[MaxCount];
    // Whether Count came from a scalability structure (then an index above it does not raise it).
    private bool _declared;

    public SpatialLayers(long timestampFrequency)
    {
        for (var i = 0; i < MaxCount; i++) _meters[i] = new LayerRateMeter(timestampFrequency);
    }

    /// <summary>
    /// How many layers the stream has: what its latest scalability structure declared, or else one above the highest
    /// spatial index seen.
    /// </summary>
    public int Count { get; private set; }

    /// <summary>Whether any packet of this layer ever arrived.</summary>
    public bool HasArrived(int spatialId) => _meters[spatialId].HasPackets;

    /// <summary>Bits per second of one layer alone.</summary>
    public long Bitrate(int spatialId) => _meters[spatialId].Bitrate;

    /// <summary>Layer frames per second of one layer, counted by their last packets (E bit).</summary>
    public double FrameRate(int spatialId) => _meters[spatialId].FrameRate;

    public int Width(int spatialId) => _widths[spatialId];

    public int Height(int spatialId) => _heights[spatialId];

    /// <summary>
    /// What a subscriber of layer <paramref name="spatialId"/> is sent: that layer and every one below it (the
    /// bitrates added up), whether that layer arrives, and its picture size (0 while unknown).
    /// </summary>
    public LayerFigures Figures(int spatialId)
    {
        long bitrate = 0;
        for (var i = 0; i <= spatialId; i++) bitrate += _meters[i].Bitrate;
        return new LayerFigures(bitrate, _meters[spatialId].IsActive, _widths[spatialId], _heights[spatialId]);
    }

    /// <summary>Counts one packet (<paramref name="length"/> bytes as received) to its layer, and reads a scalability structure.</summary>
    public void OnPacket(in Vp9PayloadDescriptor descriptor, ReadOnlySpan<byte> payload, int length, long now)
    {
        var spatialId = descriptor.SpatialId;
        _meters[spatialId].OnPacket(length, descriptor.EndOfLayerFrame, now);
        if (descriptor.SpatialLayerCount > 0)
        {
            Count = descriptor.SpatialLayerCount;
            _declared = true;
            for (var i = 0; i < Count; i++)
            {
                if (descriptor.TryGetLayerSize(payload, i, out var width, out var height))
                {
                    _widths[i] = width;
                    _heights[i] = height;
                }
            }
        }
        else if (!_declared && spatialId >= Count) Count = spatialId + 1;
    }

    public void OnTick(long now)
    {
        foreach (var meter in _meters) meter.OnTick(now);
    }
}
