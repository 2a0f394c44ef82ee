namespace Sfu.Media.Rtp;

/// <summary>
/// The VP8 payload descriptor (RFC 7741 section 4.2) at the start of every VP8 RTP payload: where the VP8 data
/// starts, whether this packet starts partition 0 of a frame, and the temporal layer index (TID) when the encoder
/// sends temporal layers, and where its PictureID and TL0PICIDX are (for rewriting them at layer switches). Read
/// without allocation; a truncated descriptor does not parse.
/// </summary>
public readonly record struct Vp8PayloadDescriptor(int Length, bool StartOfFrame, int TemporalId, bool LayerSync)
{
    /// <summary>TID when the descriptor carries none: the packet belongs to the base layer.</summary>
    public const int NoTemporalId = 0;

    /// <summary>An offset of a field the descriptor does not carry.</summary>
    public const int Absent = -1;

    /// <summary>Where the PictureID starts in the payload, or <see cref="Absent"/>.</summary>
    public int PictureIdAt { get; init; } = Absent;

    /// <summary>The PictureID is 15 bits (two bytes) rather than 7.</summary>
    public bool LongPictureId { get; init; }

    /// <summary>Where the TL0PICIDX byte is in the payload, or <see cref="Absent"/>.</summary>
    public int Tl0PicIdxAt { get; init; } = Absent;

    public static bool TryParse(ReadOnlySpan<byte> payload, out Vp8PayloadDescriptor descriptor)
    {
        descriptor = default;
        if (payload.IsEmpty)
        {
            return false;
        }

        byte first = payload[0];
        // S=1 and PID=0: the first packet of the frame's first partition.
        bool startOfFrame = (first & 0x10) != 0 && (first & 0x07) == 0;
        int offset = 1;
        int temporalId = NoTemporalId;
        bool layerSync = false;
        int pictureIdAt = Absent;
        bool longPictureId = false;
        int tl0PicIdxAt = Absent;
        if ((first & 0x80) != 0)
        {
            if (payload.Length <= offset)
            {
                return false;
            }

            byte extension = payload[offset++];
            if ((extension & 0x80) != 0)
            {
                // PictureID: 15 bits when its M bit is set, otherwise 7.
                if (payload.Length <= offset)
                {
                    return false;
                }

                pictureIdAt = offset;
                longPictureId = (payload[offset] & 0x80) != 0;
                offset += longPictureId ? 2 : 1;
            }

            if ((extension & 0x40) != 0)
            {
                tl0PicIdxAt = offset++;
            }

            if ((extension & 0x30) != 0)
            {
                if (payload.Length <= offset)
                {
                    return false;
                }

                // TID (2 bits) and Y, valid when T is set; KEYIDX shares the byte.
                if ((extension & 0x20) != 0)
                {
                    temporalId = payload[offset] >> 6;
                    layerSync = (payload[offset] & 0x20) != 0;
                }

                offset++;
            }
        }

        if (payload.Length < offset)
        {
            return false;
        }

        descriptor = new Vp8PayloadDescriptor(offset, startOfFrame, temporalId, layerSync)
        {
            PictureIdAt = pictureIdAt,
            LongPictureId = longPictureId,
            Tl0PicIdxAt = tl0PicIdxAt,
        };
        return true;
    }
}
