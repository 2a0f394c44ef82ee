namespace Sfu.Media.Rtp;

public enum RtpVideoCodec : byte
{
    Vp8,
    Vp9,
    H264,
    Av1,
}

/// <summary>
/// Tells from a video RTP payload whether it starts a keyframe, so a consumer knows when it may switch
/// layers or stop asking for one. Only the payload descriptor and first header bytes are read; malformed
/// payloads are simply not keyframes.
/// </summary>
public static class RtpKeyframe
{
    public static bool IsKeyframeStart(RtpVideoCodec codec, ReadOnlySpan<byte> payload) => codec switch
    {
        RtpVideoCodec.Vp8 => IsVp8(payload),
        RtpVideoCodec.Vp9 => IsVp9(payload),
        RtpVideoCodec.H264 => IsH264(payload),
        RtpVideoCodec.Av1 => IsAv1(payload),
        _ => false,
    };

    /// <summary>
    /// VP8 (RFC 7741): the first packet of partition 0 (S=1, PID=0) whose frame tag has P=0 (a key frame),
    /// confirmed by the key frame start code 9d 01 2a.
    /// </summary>
    public static bool IsVp8(ReadOnlySpan<byte> payload) => Vp8KeyframeHeader(payload) >= 0;

    /// <summary>
    /// The picture size a VP8 keyframe declares (the 14-bit width and height after the start code), so a
    /// simulcast layer's resolution is known without decoding. False for anything but a keyframe start.
    /// </summary>
    public static bool TryReadVp8KeyframeSize(ReadOnlySpan<byte> payload, out int width, out int height)
    {
        width = height = 0;
        var offset = Vp8KeyframeHeader(payload);
        if (offset < 0 || payload.Length < offset + 10)
        {
            return false;
        }

        width = (payload[offset + 6] | (payload[offset + 7] << 8)) & 0x3FFF;
        height = (payload[offset + 8] | (payload[offset + 9] << 8)) & 0x3FFF;
        return true;
    }

    /// <summary>Where the frame tag of a VP8 keyframe start begins, after the payload descriptor; -1 if not one.</summary>
    private static int Vp8KeyframeHeader(ReadOnlySpan<byte> payload)
    {
        if (!Vp8PayloadDescriptor.TryParse(payload, out var descriptor) || !descriptor.StartOfFrame)
        {
            return -1;
        }

        // 3-byte frame tag (P=0 for a key frame) then the 3-byte start code.
        int offset = descriptor.Length;
        if (payload.Length < offset + 6)
        {
            return -1;
        }

        bool keyframe = (payload[offset] & 0x01) == 0
            && payload[offset + 3] == 0x9D && payload[offset + 4] == 0x01 && payload[offset + 5] == 0x2A;
        return keyframe ? offset : -1;
    }

    /// <summary>
    /// VP9 (RFC 9628): the beginning of a frame (B=1) that is not inter-picture predicted (P=0) in the
    /// lowest spatial layer.
    /// </summary>
    public static bool IsVp9(ReadOnlySpan<byte> payload) =>
        Vp9PayloadDescriptor.TryParse(payload, out var descriptor) && descriptor.StartOfKeyframe;

    /// <summary>
    /// H.264 (RFC 6184): an IDR slice or an SPS, alone, inside a STAP-A, or at the start of a FU-A. An SPS
    /// counts because encoders send SPS/PPS in the first packet of every IDR frame.
    /// </summary>
    public static bool IsH264(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return false;
        }

        int type = payload[0] & 0x1F;
        switch (type)
        {
            case 24: // STAP-A: 16-bit size then a NAL unit, repeated
                int offset = 1;
                while (offset + 2 < payload.Length)
                {
                    int size = (payload[offset] << 8) | payload[offset + 1];
                    offset += 2;
                    if (size == 0 || offset + size > payload.Length)
                    {
                        return false;
                    }

                    if (IsH264KeyNal(payload[offset] & 0x1F))
                    {
                        return true;
                    }

                    offset += size;
                }

                return false;
            case 28: // FU-A: the FU header's S bit marks the first fragment
                return payload.Length >= 2 && (payload[1] & 0x80) != 0 && IsH264KeyNal(payload[1] & 0x1F);
            default:
                return IsH264KeyNal(type);
        }
    }

    /// <summary>
    /// AV1 (AV1 RTP payload format): the aggregation header's N bit marks the first packet of a new coded
    /// video sequence; failing that, a first OBU that is a sequence header (type 1) also starts one.
    /// </summary>
    public static bool IsAv1(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 2)
        {
            return false;
        }

        byte aggregation = payload[0];
        if ((aggregation & 0x08) != 0)
        {
            return true;
        }

        if ((aggregation & 0x80) != 0)
        {
            return false; // Z=1: the first OBU continues from the previous packet
        }

        int offset = 1;
        int elementCount = (aggregation >> 4) & 0x03;
        if (elementCount != 1)
        {
            // The first element carries a LEB128 length unless it is the only (W=1) element.
            while (offset < payload.Length && (payload[offset] & 0x80) != 0)
            {
                offset++;
            }

            offset++;
        }

        if (offset >= payload.Length)
        {
            return false;
        }

        int obuType = (payload[offset] >> 3) & 0x0F;
        return obuType == 1;
    }

    private static bool IsH264KeyNal(int nalType) => nalType is 5 or 7;
}
