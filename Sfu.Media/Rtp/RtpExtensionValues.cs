using System.Buffers.Binary;

namespace Sfu.Media.Rtp;

/// <summary>Decoders and encoders for the values of the header extensions an SFU looks at.</summary>
public static class RtpExtensionValues
{
    public const string AbsSendTimeUri = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    public const string TransportWideCcUri = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    public const string MidUri = "urn:ietf:params:rtp-hdrext:sdes:mid";
    public const string AudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

    /// <summary>abs-send-time: 24 bits, seconds in 6.18 fixed point (wraps every 64 s).</summary>
    public static bool TryReadAbsSendTime(ReadOnlySpan<byte> value, out uint absSendTime)
    {
        absSendTime = value.Length == 3 ? (uint)((value[0] << 16) | (value[1] << 8) | value[2]) : 0;
        return value.Length == 3;
    }

    public static bool TryWriteAbsSendTime(Span<byte> value, uint absSendTime)
    {
        if (value.Length != 3)
        {
            return false;
        }

        value[0] = (byte)(absSendTime >> 16);
        value[1] = (byte)(absSendTime >> 8);
        value[2] = (byte)absSendTime;
        return true;
    }

    /// <summary>
    /// abs-send-time for a <see cref="TimeProvider"/> timestamp. Whole seconds and the remainder are scaled
    /// apart so that ticks * 2^18 cannot overflow on a long-running host.
    /// </summary>
    public static uint ToAbsSendTime(long timestamp, long timestampFrequency)
    {
        long seconds = timestamp / timestampFrequency;
        long remainder = timestamp % timestampFrequency;
        long fixedPoint = (seconds << 18) + ((remainder << 18) / timestampFrequency);
        return (uint)fixedPoint & 0xFFFFFF;
    }

    /// <summary>transport-wide-cc: a 16-bit sequence number shared by every stream of a transport.</summary>
    public static bool TryReadTransportSequenceNumber(ReadOnlySpan<byte> value, out ushort sequenceNumber)
    {
        sequenceNumber = value.Length == 2 ? BinaryPrimitives.ReadUInt16BigEndian(value) : (ushort)0;
        return value.Length == 2;
    }

    public static bool TryWriteTransportSequenceNumber(Span<byte> value, ushort sequenceNumber)
    {
        if (value.Length != 2)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt16BigEndian(value, sequenceNumber);
        return true;
    }

    /// <summary>RFC 6464 audio level: voice-activity flag and level in -dBov (0 loudest, 127 silence).</summary>
    public static bool TryReadAudioLevel(ReadOnlySpan<byte> value, out bool voiceActivity, out byte level)
    {
        // Senders using the one-byte form may pad the value to more than one byte; only the first counts.
        voiceActivity = !value.IsEmpty && (value[0] & 0x80) != 0;
        level = value.IsEmpty ? (byte)0 : (byte)(value[0] & 0x7F);
        return !value.IsEmpty;
    }
}
