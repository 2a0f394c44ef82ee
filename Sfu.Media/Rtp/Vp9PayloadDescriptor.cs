using System.Buffers.Binary;

namespace Sfu.Media.Rtp;

/// <summary>
/// The VP9 payload descriptor (RFC 9628 section 4.2) at the start of every VP9 RTP payload: which layer frame the
/// packet belongs to (spatial and temporal index), where that layer frame begins and ends, whether it is predicted
/// from an earlier picture, and where the optional fields are (picture id, TL0PICIDX, the flexible mode's reference
/// differences, the scalability structure). Read without allocation; anything truncated or contradicting the RFC's
/// layout does not parse.
/// </summary>
public readonly record struct Vp9PayloadDescriptor
{
    /// <summary>An offset of a field the descriptor does not carry.</summary>
    public const int Absent = -1;

    /// <summary>Spatial layers a scalability structure can describe (N_S is three bits: count - 1).</summary>
    public const int MaxSpatialLayers = 8;

    /// <summary>Reference differences one packet of the flexible mode may list.</summary>
    public const int MaxReferences = 3;

    /// <summary>Bytes the descriptor takes: the VP9 data starts there.</summary>
    public int Length { get; init; }

    /// <summary>P: the picture is predicted from an earlier picture (of its spatial layer); false at a keyframe.</summary>
    public bool InterPicturePredicted { get; init; }

    /// <summary>F: flexible mode, where each packet lists its references instead of following a group of pictures.</summary>
    public bool Flexible { get; init; }

    /// <summary>B: the first packet of a layer frame (one spatial layer of one picture).</summary>
    public bool StartOfLayerFrame { get; init; }

    /// <summary>E: the last packet of a layer frame.</summary>
    public bool EndOfLayerFrame { get; init; }

    /// <summary>Z: no higher spatial layer of this picture refers to this layer frame.</summary>
    public bool NotReferencedByUpperLayer { get; init; }

    /// <summary>L: the descriptor carries layer indices; without them the packet is in spatial and temporal layer 0.</summary>
    public bool HasLayerIndices { get; init; }

    /// <summary>TID: the temporal layer, 0 (the base frame rate) to 7.</summary>
    public int TemporalId { get; init; }

    /// <summary>U: a switching-up point: from this frame on, the temporal layer no longer needs earlier frames of its own layer.</summary>
    public bool SwitchingUpPoint { get; init; }

    /// <summary>SID: the spatial layer, 0 (the smallest picture) to 7.</summary>
    public int SpatialId { get; init; }

    /// <summary>D: this layer frame refers to the spatial layer below, in the same picture.</summary>
    public bool InterLayerDependent { get; init; }

    /// <summary>The picture id (7 or 15 bits), or <see cref="Absent"/>.</summary>
    public int PictureId { get; init; }

    /// <summary>Where the picture id starts in the payload, or <see cref="Absent"/>.</summary>
    public int PictureIdAt { get; init; }

    /// <summary>The picture id is 15 bits (two bytes) rather than 7.</summary>
    public bool LongPictureId { get; init; }

    /// <summary>Where the TL0PICIDX byte is (non-flexible mode with layer indices), or <see cref="Absent"/>.</summary>
    public int Tl0PicIdxAt { get; init; }

    /// <summary>Where the flexible mode's P_DIFF bytes start (each: 7-bit difference, then N), or <see cref="Absent"/>.</summary>
    public int ReferencesAt { get; init; }

    /// <summary>How many P_DIFF bytes there are (0 to <see cref="MaxReferences"/>).</summary>
    public int ReferenceCount { get; init; }

    /// <summary>Where the scalability structure (V) starts, or <see cref="Absent"/>.</summary>
    public int ScalabilityStructureAt { get; init; }

    /// <summary>Spatial layers the scalability structure declares (N_S + 1); 0 without one.</summary>
    public int SpatialLayerCount { get; init; }

    /// <summary>Y: the scalability structure gives each spatial layer's picture size.</summary>
    public bool HasLayerSizes { get; init; }

    /// <summary>N_G: pictures in the group of pictures the structure describes (0 when G is not set).</summary>
    public int PictureGroupSize { get; init; }

    /// <summary>
    /// The first packet of a picture: the start of its lowest spatial layer's frame. A subscriber's spatial layer can
    /// go down here without breaking anything, since no layer refers to a higher one.
    /// </summary>
    public bool StartOfPicture => StartOfLayerFrame && SpatialId == 0;

    /// <summary>The first packet of a keyframe: a picture start not predicted from an earlier picture.</summary>
    public bool StartOfKeyframe => StartOfPicture && !InterPicturePredicted;

    /// <summary>
    /// The picture size of spatial layer <paramref name="spatialId"/>, from the scalability structure of the payload this
    /// descriptor was read from. False when the structure is absent, gives no sizes, or has no such layer.
    /// </summary>
    public bool TryGetLayerSize(ReadOnlySpan<byte> payload, int spatialId, out int width, out int height)
    {
        width = height = 0;
        if (!HasLayerSizes || (uint)spatialId >= (uint)SpatialLayerCount) return false;
        var at = ScalabilityStructureAt + 1 + (4 * spatialId);
        if (payload.Length < at + 4) return false;
        width = BinaryPrimitives.ReadUInt16BigEndian(payload[at..]);
        height = BinaryPrimitives.ReadUInt16BigEndian(payload[(at + 2)..]);
        return true;
    }

    public static bool TryParse(ReadOnlySpan<byte> payload, out Vp9PayloadDescriptor descriptor)
    {
        descriptor = default;
        if (payload.IsEmpty) return false;
        var first = payload[0];
        var hasPictureId = (first & 0x80) != 0;
        var predicted = (first & 0x40) != 0;
        var hasLayers = (first & 0x20) != 0;
        var flexible = (first & 0x10) != 0;
        var hasStructure = (first & 0x02) != 0;
        // The flexible mode numbers every picture: its references are picture id differences.
        if (flexible && !hasPictureId) return false;

        var offset = 1;
        int pictureId = Absent, pictureIdAt = Absent;
        var longPictureId = false;
        if (hasPictureId)
        {
            if (payload.Length <= offset) return false;
            pictureIdAt = offset;
            longPictureId = (payload[offset] & 0x80) != 0;
            if (longPictureId)
            {
                if (payload.Length <= offset + 1) return false;
                pictureId = ((payload[offset] & 0x7F) << 8) | payload[offset + 1];
                offset += 2;
            }
            else pictureId = payload[offset++];
        }

        int temporalId = 0, spatialId = 0, tl0PicIdxAt = Absent;
        bool switchingUp = false, interLayer = false;
        if (hasLayers)
        {
            if (payload.Length <= offset) return false;
            var layers = payload[offset++];
            temporalId = layers >> 5;
            switchingUp = (layers & 0x10) != 0;
            spatialId = (layers >> 1) & 0x07;
            interLayer = (layers & 0x01) != 0;
            if (!flexible)
            {
                if (payload.Length <= offset) return false;
                tl0PicIdxAt = offset++;
            }
        }

        int referencesAt = Absent, referenceCount = 0;
        if (flexible && predicted)
        {
            referencesAt = offset;
            bool more;
            do
            {
                if (payload.Length <= offset || referenceCount == MaxReferences) return false;
                more = (payload[offset++] & 0x01) != 0;
                referenceCount++;
            }
            while (more);
        }

        int structureAt = Absent, spatialCount = 0, groupSize = 0;
        var hasSizes = false;
        if (hasStructure && !TryReadStructure(payload, ref offset, out structureAt, out spatialCount, out hasSizes, out groupSize)) return false;

        descriptor = new Vp9PayloadDescriptor
        {
            Length = offset,
            InterPicturePredicted = predicted,
            Flexible = flexible,
            StartOfLayerFrame = (first & 0x08) != 0,
            EndOfLayerFrame = (first & 0x04) != 0,
            NotReferencedByUpperLayer = (first & 0x01) != 0,
            HasLayerIndices = hasLayers,
            TemporalId = temporalId,
            SwitchingUpPoint = switchingUp,
            SpatialId = spatialId,
            InterLayerDependent = interLayer,
            PictureId = pictureId,
            PictureIdAt = pictureIdAt,
            LongPictureId = longPictureId,
            Tl0PicIdxAt = tl0PicIdxAt,
            ReferencesAt = referencesAt,
            ReferenceCount = referenceCount,
            ScalabilityStructureAt = structureAt,
            SpatialLayerCount = spatialCount,
            HasLayerSizes = hasSizes,
            PictureGroupSize = groupSize,
        };
        return true;
    }

    /// <summary>
    /// The scalability structure: N_S|Y|G, then a width and height per spatial layer when Y, then when G the group of
    /// pictures (N_G, and per picture TID|U|R with R reference differences). Moves <paramref name="offset"/> past it.
    /// </summary>
    private static bool TryReadStructure(ReadOnlySpan<byte> payload, ref int offset, out int at, out int spatialCount, out bool hasSizes, out int groupSize)
    {
        at = offset;
        spatialCount = 0;
        hasSizes = false;
        groupSize = 0;
        if (payload.Length <= offset) return false;
        var header = payload[offset++];
        spatialCount = (header >> 5) + 1;
        hasSizes = (header & 0x10) != 0;
        if (hasSizes) offset += 4 * spatialCount;
        if ((header & 0x08) != 0)
        {
            if (payload.Length <= offset) return false;
            groupSize = payload[offset++];
            for (var picture = 0; picture < groupSize; picture++)
            {
                if (payload.Length <= offset) return false;
                var references = (payload[offset++] >> 2) & 0x03;
                offset += references;
            }
        }
        return payload.Length >= offset;
    }
}
