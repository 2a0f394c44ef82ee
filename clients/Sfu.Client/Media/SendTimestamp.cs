using System.Buffers.Binary;

namespace Sfu.Client.Media;

/// <summary>
/// The publisher's send time inside a VP8 payload, right after the payload header (descriptor and, on a frame's first
/// packet, the frame tag and key frame header), where a forwarder copies bytes without reading them. A 4-byte mark
/// precedes the <see cref="System.Diagnostics.Stopwatch"/> timestamp so that ordinary filler is never mistaken for
/// one. The monotonic clock is the host's, so a subscriber on the same host gets the one-way time through the server.
/// </summary>
public static class SendTimestamp
{
    /// <summary>The mark ("SFUt") and the 8-byte timestamp.</summary>
    public const int Length = 12;

    private const uint Mark = 0x53465574;

    /// <summary>Writes the stamp at the start of <paramref name="afterHeader"/>; false when it does not fit.</summary>
    public static bool TryWrite(Span<byte> afterHeader, long timestamp)
    {
        if (afterHeader.Length < Length)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt32BigEndian(afterHeader, Mark);
        BinaryPrimitives.WriteInt64BigEndian(afterHeader[4..], timestamp);
        return true;
    }

    /// <summary>Reads the stamp of a whole VP8 RTP payload; false when it carries none.</summary>
    public static bool TryRead(ReadOnlySpan<byte> vp8Payload, out long timestamp)
    {
        timestamp = 0;
        int header = Vp8Payload.HeaderLength(vp8Payload);
        if (header < 0 || vp8Payload.Length - header < Length || BinaryPrimitives.ReadUInt32BigEndian(vp8Payload[header..]) != Mark)
        {
            return false;
        }

        timestamp = BinaryPrimitives.ReadInt64BigEndian(vp8Payload[(header + 4)..]);
        return true;
    }
}
