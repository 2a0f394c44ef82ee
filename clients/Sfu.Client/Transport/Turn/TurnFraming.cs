using System.Buffers.Binary;
using Sfu.Media.Stun;

namespace Sfu.Client.Transport.Turn;

/// <summary>
/// ChannelData messages (RFC 8656 section 12.4) and the framing of a TURN TCP stream, where STUN messages and
/// ChannelData follow each other with no other delimiter (section 12.5): the first two bits tell them apart, STUN's
/// header carries its length, ChannelData's too, padded to four bytes on a stream.
/// </summary>
public static class TurnFraming
{
    public const int ChannelDataHeaderLength = 4;

    /// <summary>RFC 8656 section 12: channel numbers a client may bind.</summary>
    public const ushort FirstChannel = 0x4000;

    public const ushort LastChannel = 0x4FFF;

    /// <summary>The longest frame a stream can carry: a STUN message or ChannelData of 65535 bytes, plus padding.</summary>
    public const int MaxFrameLength = ChannelDataHeaderLength + ushort.MaxValue + 3;

    /// <summary>
    /// The length of the frame at the start of a stream's buffered bytes: 0 when more bytes are needed to know or to
    /// complete it, -1 when they cannot start a STUN message or ChannelData (the stream is then unusable).
    /// </summary>
    public static int FrameLength(ReadOnlySpan<byte> buffered)
    {
        if (buffered.Length < ChannelDataHeaderLength)
        {
            return 0;
        }

        int declared = BinaryPrimitives.ReadUInt16BigEndian(buffered[2..]);
        int length;
        switch (buffered[0] >> 6)
        {
            case 0:
                // STUN: the length excludes the 20-byte header and is a multiple of four already.
                if ((declared & 3) != 0)
                {
                    return -1;
                }

                length = StunConstants.HeaderLength + declared;
                break;
            case 1:
                length = ChannelDataHeaderLength + ((declared + 3) & ~3);
                break;
            default:
                return -1;
        }

        return buffered.Length >= length ? length : 0;
    }

    /// <summary>
    /// Writes a ChannelData message; <paramref name="pad"/> (on a stream) rounds it up to four bytes with zeros. Returns its
    /// length, 0 when <paramref name="destination"/> is too small.
    /// </summary>
    public static int WriteChannelData(Span<byte> destination, ushort channel, ReadOnlySpan<byte> data, bool pad)
    {
        int length = ChannelDataHeaderLength + data.Length;
        int total = pad ? (length + 3) & ~3 : length;
        if (data.Length > ushort.MaxValue || destination.Length < total)
        {
            return 0;
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination, channel);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)data.Length);
        data.CopyTo(destination[ChannelDataHeaderLength..]);
        destination[length..total].Clear();
        return total;
    }

    /// <summary>
    /// Reads a ChannelData message's header: its channel and where its data lies in <paramref name="message"/>. False when
    /// it is not ChannelData or declares more data than it holds (padding after the data is allowed).
    /// </summary>
    public static bool TryReadChannelData(ReadOnlySpan<byte> message, out ushort channel, out int dataLength)
    {
        channel = 0;
        dataLength = 0;
        if (message.Length < ChannelDataHeaderLength || message[0] >> 6 != 1)
        {
            return false;
        }

        channel = BinaryPrimitives.ReadUInt16BigEndian(message);
        dataLength = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        return dataLength <= message.Length - ChannelDataHeaderLength;
    }
}
