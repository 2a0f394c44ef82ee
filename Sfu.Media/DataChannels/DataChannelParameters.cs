using System.Buffers.Binary;
using System.Text;
using Sfu.Media.Sctp;

namespace Sfu.Media.DataChannels;

/// <summary>
/// What a DATA_CHANNEL_OPEN (RFC 8832 section 5.1) says about a channel: its label and sub-protocol, and how its
/// messages travel (ordered or not; reliable, or limited by retransmissions or by a lifetime in milliseconds).
/// </summary>
public sealed record DataChannelParameters(string Label, string Protocol = "", bool Ordered = true, int? MaxRetransmits = null, int? MaxLifetimeMs = null)
{
    public const byte OpenMessage = 0x03;
    public const byte AckMessage = 0x02;
    private const int FixedLength = 12;

    /// <summary>The per-message delivery that realises these parameters on the association.</summary>
    public SctpSendOptions SendOptions => new(
        Unordered: !Ordered,
        MaxRetransmits: MaxRetransmits,
        Lifetime: MaxLifetimeMs is { } lifetime ? TimeSpan.FromMilliseconds(lifetime) : null);

    public int EncodedLength => FixedLength + Encoding.UTF8.GetByteCount(Label) + Encoding.UTF8.GetByteCount(Protocol);

    public static bool TryParseOpen(ReadOnlySpan<byte> message, out DataChannelParameters? parameters)
    {
        parameters = null;
        if (message.Length < FixedLength || message[0] != OpenMessage)
        {
            return false;
        }

        byte type = message[1];
        uint reliability = BinaryPrimitives.ReadUInt32BigEndian(message[4..]);
        int labelLength = BinaryPrimitives.ReadUInt16BigEndian(message[8..]);
        int protocolLength = BinaryPrimitives.ReadUInt16BigEndian(message[10..]);
        if (message.Length < FixedLength + labelLength + protocolLength || (type & 0x7F) > 2 || reliability > int.MaxValue)
        {
            return false;
        }

        string label = Encoding.UTF8.GetString(message.Slice(FixedLength, labelLength));
        string protocol = Encoding.UTF8.GetString(message.Slice(FixedLength + labelLength, protocolLength));
        parameters = new DataChannelParameters(
            label,
            protocol,
            Ordered: (type & 0x80) == 0,
            MaxRetransmits: (type & 0x7F) == 1 ? (int)reliability : null,
            MaxLifetimeMs: (type & 0x7F) == 2 ? (int)reliability : null);
        return true;
    }

    public void WriteOpen(Span<byte> destination)
    {
        byte type = (byte)((Ordered ? 0 : 0x80) | (MaxRetransmits is not null ? 1 : MaxLifetimeMs is not null ? 2 : 0));
        destination[0] = OpenMessage;
        destination[1] = type;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], (uint)(MaxRetransmits ?? MaxLifetimeMs ?? 0));
        int labelLength = Encoding.UTF8.GetBytes(Label, destination[FixedLength..]);
        int protocolLength = Encoding.UTF8.GetBytes(Protocol, destination[(FixedLength + labelLength)..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[8..], (ushort)labelLength);
        BinaryPrimitives.WriteUInt16BigEndian(destination[10..], (ushort)protocolLength);
    }
}
