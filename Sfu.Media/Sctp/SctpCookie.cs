using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Sfu.Media.Sctp;

/// <summary>
/// The parameters of an association that is not set up yet, carried by the peer in the State Cookie (RFC 9260
/// section 5.1.3) instead of kept here, so an INIT costs no state. The cookie is HMAC-SHA256'd with a key only this
/// association knows, and dated, so a forged or replayed one is refused.
/// </summary>
internal readonly record struct SctpCookie(
    uint LocalTag,
    uint PeerTag,
    uint LocalInitialTsn,
    uint PeerInitialTsn,
    uint PeerReceiveWindow,
    ushort OutboundStreams,
    ushort InboundStreams,
    DateTimeOffset Created)
{
    private const int BodyLength = 32;
    public const int Length = BodyLength + 32;

    public void Write(Span<byte> destination, ReadOnlySpan<byte> key)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, LocalTag);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], PeerTag);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], LocalInitialTsn);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], PeerInitialTsn);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], PeerReceiveWindow);
        BinaryPrimitives.WriteUInt16BigEndian(destination[20..], OutboundStreams);
        BinaryPrimitives.WriteUInt16BigEndian(destination[22..], InboundStreams);
        BinaryPrimitives.WriteInt64BigEndian(destination[24..], Created.UtcTicks);
        HMACSHA256.HashData(key, destination[..BodyLength], destination[BodyLength..Length]);
    }

    public static bool TryRead(ReadOnlySpan<byte> cookie, ReadOnlySpan<byte> key, DateTimeOffset now, TimeSpan lifetime, out SctpCookie result)
    {
        result = default;
        Span<byte> mac = stackalloc byte[32];
        if (cookie.Length != Length)
        {
            return false;
        }

        HMACSHA256.HashData(key, cookie[..BodyLength], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, cookie[BodyLength..]))
        {
            return false;
        }

        var created = new DateTimeOffset(BinaryPrimitives.ReadInt64BigEndian(cookie[24..]), TimeSpan.Zero);
        if (created > now || now - created > lifetime)
        {
            return false;
        }

        result = new SctpCookie(
            BinaryPrimitives.ReadUInt32BigEndian(cookie),
            BinaryPrimitives.ReadUInt32BigEndian(cookie[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(cookie[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(cookie[12..]),
            BinaryPrimitives.ReadUInt32BigEndian(cookie[16..]),
            BinaryPrimitives.ReadUInt16BigEndian(cookie[20..]),
            BinaryPrimitives.ReadUInt16BigEndian(cookie[22..]),
            created);
        return true;
    }
}
