using Sfu.Media.Rtp;

namespace Sfu.Fuzz.Targets;

/// <summary>
/// A decrypted RTP packet as a producer receives it: header, CSRCs, padding, both header extension forms with every
/// element id, the extension values the SFU reads, the in-place id rewrite a consumer applies, keyframe
/// detection of the payload for each video codec, and the VP9 payload descriptor with its scalability structure.
/// </summary>
public sealed class RtpTarget : FuzzTarget
{
    public override void Execute(ReadOnlySpan<byte> input)
    {
        // The forwarding path rewrites packets in place, so the parser gets its own copy to change.
        Span<byte> packet = input.ToArray();
        if (!RtpPacket.TryParse(packet, out var rtp))
        {
            return;
        }

        _ = (rtp.Version, rtp.HasPadding, rtp.Marker, rtp.PayloadType, rtp.SequenceNumber, rtp.Timestamp, rtp.Ssrc, rtp.PaddingLength);
        for (int i = 0; i < rtp.CsrcCount; i++)
        {
            rtp.GetCsrc(i);
        }

        _ = (rtp.ExtensionProfile, rtp.ExtensionData.Length);
        for (int id = 0; id <= 16; id++)
        {
            if (rtp.TryGetExtension(id, out var value))
            {
                RtpExtensionValues.TryReadAbsSendTime(value, out _);
                RtpExtensionValues.TryReadTransportSequenceNumber(value, out _);
                RtpExtensionValues.TryReadAudioLevel(value, out _, out _);
                RtpExtensionValues.TryWriteTransportSequenceNumber(value, 0x1234);
                rtp.TrySetExtensionId(id, 15 - id);
            }
        }

        rtp.TryGetExtension(255, out _);
        foreach (var codec in Enum.GetValues<RtpVideoCodec>())
        {
            RtpKeyframe.IsKeyframeStart(codec, rtp.Payload);
        }

        // What an SVC producer reads of every VP9 packet: the layer indices and the scalability structure's sizes.
        if (Vp9PayloadDescriptor.TryParse(rtp.Payload, out var vp9))
        {
            for (int spatialId = 0; spatialId < Vp9PayloadDescriptor.MaxSpatialLayers; spatialId++)
            {
                vp9.TryGetLayerSize(rtp.Payload, spatialId, out _, out _);
            }
        }
    }
}
