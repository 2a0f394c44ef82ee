namespace Sfu.Client.Media;

/// <summary>
/// VP8 RTP payloads (RFC 7741) good enough for a forwarder: a valid payload descriptor with a 15-bit
/// PictureID, and on a frame's first packet a VP8 frame tag, which for a key frame is followed by the
/// start code and dimensions that keyframe detectors look for. The rest is filler: nobody decodes it.
/// </summary>
public static class Vp8Payload
{
    /// <summary>Descriptor (4 bytes) plus, on a frame's first packet, the frame tag (3) and key frame header (7).</summary>
    public const int MaxHeaderLength = 4 + 3 + 7;

    /// <summary>Writes one packet's payload of <paramref name="length"/> bytes; returns the bytes written.</summary>
    /// <param name="startOfFrame">The frame's first packet (S bit, frame tag).</param>
    public static int Write(Span<byte> destination, int length, ushort pictureId, bool startOfFrame, bool keyframe, byte fill)
    {
        length = Math.Max(length, MaxHeaderLength);
        destination[0] = (byte)(0x80 | (startOfFrame ? 0x10 : 0));   // X, S, PID 0
        destination[1] = 0x80;                                         // I: PictureID present
        destination[2] = (byte)(0x80 | ((pictureId >> 8) & 0x7F));    // M: 15-bit PictureID
        destination[3] = (byte)pictureId;
        int at = 4;
        if (startOfFrame)
        {
            // Frame tag: P (0 = key frame), version 0, show_frame 1, first partition size (any, not decoded).
            const int firstPartitionSize = 100;
            destination[at++] = (byte)((keyframe ? 0 : 1) | 0x10 | ((firstPartitionSize & 0x7) << 5));
            destination[at++] = (byte)(firstPartitionSize >> 3);
            destination[at++] = (byte)(firstPartitionSize >> 11);
            if (keyframe)
            {
                // Start code, then 640x480 with no scaling, little-endian.
                destination[at++] = 0x9D;
                destination[at++] = 0x01;
                destination[at++] = 0x2A;
                destination[at++] = 640 & 0xFF;
                destination[at++] = 640 >> 8;
                destination[at++] = 480 & 0xFF;
                destination[at++] = 480 >> 8;
            }
        }

        destination[at..length].Fill(fill);
        return length;
    }

    /// <summary>
    /// The length of <paramref name="payload"/>'s header: the payload descriptor (RFC 7741 4.2) and, on the first
    /// packet of a frame (S set, partition 0), the 3-byte frame tag plus, for a key frame, the 7-byte start code and
    /// dimensions; -1 when the payload is shorter than its header says.
    /// </summary>
    public static int HeaderLength(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return -1;
        }

        int at = 1;
        if ((payload[0] & 0x80) != 0)
        {
            if (payload.Length < 2)
            {
                return -1;
            }

            byte extensions = payload[1];
            at = 2;
            if ((extensions & 0x80) != 0)
            {
                // PictureID: 15 bits when its first byte has M set, 7 otherwise.
                at += at < payload.Length && (payload[at] & 0x80) != 0 ? 2 : 1;
            }

            at += (extensions & 0x40) != 0 ? 1 : 0;            // L: TL0PICIDX
            at += (extensions & 0x30) != 0 ? 1 : 0;            // T or K: TID/Y/KEYIDX
        }

        bool startOfPartitionZero = (payload[0] & 0x10) != 0 && (payload[0] & 0x07) == 0;
        if (startOfPartitionZero && at < payload.Length)
        {
            at += (payload[at] & 0x01) == 0 ? 3 + 7 : 3;
        }

        return at <= payload.Length ? at : -1;
    }
}
