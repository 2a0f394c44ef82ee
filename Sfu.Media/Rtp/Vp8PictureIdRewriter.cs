namespace Sfu.Media.Rtp;

/// <summary>
/// Keeps the VP8 PictureID and TL0PICIDX (RFC 7741 section 4.2) of one consumer's stream continuous across
/// simulcast layer switches, as its <see cref="SequenceNumberRewriter"/> does for sequence numbers. Each layer
/// comes from its own encoder with its own picture numbering; a receiver that sees the numbers jump back after a
/// switch takes the new layer's frames for old ones (Chromium's reference finder holds them until its 3 s frame
/// timeout asks for a keyframe). After <see cref="RequestSwitch"/> the next packet's numbers continue at last + 1;
/// within a layer the mapping is a fixed offset, so retransmissions map the same way (<see cref="Apply"/>).
/// Rewrites in place; one instance per consumer stream; not thread-safe.
/// </summary>
public sealed class Vp8PictureIdRewriter
{
    private bool _switchPending = true;
    private bool _started;
    private ushort _pictureOffset;
    private byte _tl0Offset;
    private ushort _lastPictureId;
    private byte _lastTl0;

    /// <summary>The next packet rewritten starts a new mapping that continues the output.</summary>
    public void RequestSwitch() => _switchPending = true;

    /// <summary>
    /// Rewrites the descriptor at the start of <paramref name="payload"/> and returns the offsets it used, for
    /// <see cref="Apply"/> on a retransmission of the same packet. A payload without the numbers is left alone.
    /// </summary>
    public (ushort PictureOffset, byte Tl0Offset) Rewrite(Span<byte> payload)
    {
        if (!Vp8PayloadDescriptor.TryParse(payload, out var descriptor)) return (_pictureOffset, _tl0Offset);
        var (pictureAt, tl0At) = (descriptor.PictureIdAt, descriptor.Tl0PicIdxAt);
        if (_switchPending)
        {
            _switchPending = false;
            if (_started)
            {
                if (pictureAt >= 0) _pictureOffset = (ushort)(_lastPictureId + 1 - ReadPictureId(payload, descriptor));
                if (tl0At >= 0) _tl0Offset = (byte)(_lastTl0 + 1 - payload[tl0At]);
            }
            _started = true;
        }
        Apply(payload, descriptor, _pictureOffset, _tl0Offset);
        if (pictureAt >= 0) _lastPictureId = ReadPictureId(payload, descriptor);
        if (tl0At >= 0) _lastTl0 = payload[tl0At];
        return (_pictureOffset, _tl0Offset);
    }

    /// <summary>Adds the offsets to the PictureID (modulo its 7 or 15 bits) and TL0PICIDX, where the descriptor has them.</summary>
    public static void Apply(Span<byte> payload, ushort pictureOffset, byte tl0Offset)
    {
        if (Vp8PayloadDescriptor.TryParse(payload, out var descriptor)) Apply(payload, descriptor, pictureOffset, tl0Offset);
    }

    private static void Apply(Span<byte> payload, in Vp8PayloadDescriptor descriptor, ushort pictureOffset, byte tl0Offset)
    {
        if (descriptor.PictureIdAt is var pictureAt and >= 0)
        {
            var pictureId = ReadPictureId(payload, descriptor) + pictureOffset;
            if (descriptor.LongPictureId)
            {
                payload[pictureAt] = (byte)(0x80 | ((pictureId >> 8) & 0x7F));
                payload[pictureAt + 1] = (byte)pictureId;
            }
            else payload[pictureAt] = (byte)(pictureId & 0x7F);
        }
        if (descriptor.Tl0PicIdxAt is var tl0At and >= 0) payload[tl0At] = (byte)(payload[tl0At] + tl0Offset);
    }

    private static ushort ReadPictureId(ReadOnlySpan<byte> payload, in Vp8PayloadDescriptor descriptor)
    {
        var at = descriptor.PictureIdAt;
        return descriptor.LongPictureId ? (ushort)(((payload[at] & 0x7F) << 8) | payload[at + 1]) : (ushort)(payload[at] & 0x7F);
    }
}
