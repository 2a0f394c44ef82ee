using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Sfu.Media.Stun;

/// <summary>
/// Builds one STUN message into a caller-provided buffer, attribute by attribute, keeping the header length
/// current. Every Add method returns false and leaves the message unchanged when the buffer has no room, so a
/// response built from peer input never throws. MESSAGE-INTEGRITY and then FINGERPRINT go last.
/// </summary>
public ref struct StunMessageWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    /// <param name="buffer">At least 20 bytes; 548 fits anything this project sends.</param>
    /// <param name="messageType">For example <see cref="StunMessageType.BindingSuccessResponse"/>.</param>
    /// <param name="transactionId">12 bytes: copied from the request, or fresh from <see cref="NewTransactionId"/>.</param>
    public StunMessageWriter(Span<byte> buffer, ushort messageType, ReadOnlySpan<byte> transactionId)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buffer.Length, StunConstants.HeaderLength, nameof(buffer));
        if (transactionId.Length != StunConstants.TransactionIdLength)
        {
            throw new ArgumentException("A STUN transaction id is 12 bytes.", nameof(transactionId));
        }

        _buffer = buffer;
        BinaryPrimitives.WriteUInt16BigEndian(buffer, (ushort)(messageType & 0x3FFF));
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], StunConstants.MagicCookie);
        transactionId.CopyTo(buffer[8..]);
        _length = StunConstants.HeaderLength;
    }

    /// <summary>Bytes written so far, header included.</summary>
    public readonly int Length => _length;

    public readonly ReadOnlySpan<byte> Written => _buffer[.._length];

    /// <summary>Fills <paramref name="transactionId"/> (12 bytes) from the cryptographic RNG, as RFC 8489 asks.</summary>
    public static void NewTransactionId(Span<byte> transactionId) =>
        RandomNumberGenerator.Fill(transactionId[..StunConstants.TransactionIdLength]);

    /// <summary>Any attribute, padded to 4 bytes with zeros.</summary>
    public bool AddAttribute(ushort type, scoped ReadOnlySpan<byte> value)
    {
        if (!TryReserve(type, value.Length, out Span<byte> dest))
        {
            return false;
        }

        value.CopyTo(dest);
        return true;
    }

    public bool AddUsername(scoped ReadOnlySpan<byte> username) =>
        username.Length <= StunConstants.MaxUsernameLength && AddAttribute((ushort)StunAttributeType.Username, username);

    public bool AddPriority(uint priority)
    {
        if (!TryReserve((ushort)StunAttributeType.Priority, 4, out Span<byte> dest))
        {
            return false;
        }

        BinaryPrimitives.WriteUInt32BigEndian(dest, priority);
        return true;
    }

    public bool AddIceControlling(ulong tieBreaker) => AddUInt64((ushort)StunAttributeType.IceControlling, tieBreaker);

    public bool AddIceControlled(ulong tieBreaker) => AddUInt64((ushort)StunAttributeType.IceControlled, tieBreaker);

    public bool AddUseCandidate() => TryReserve((ushort)StunAttributeType.UseCandidate, 0, out _);

    /// <summary>ERROR-CODE, <paramref name="code"/> from 300 to 699, reason phrase in UTF-8.</summary>
    public bool AddErrorCode(int code, scoped ReadOnlySpan<byte> reason)
    {
        if (code is < 300 or > 699 || reason.Length > 763
            || !TryReserve((ushort)StunAttributeType.ErrorCode, 4 + reason.Length, out Span<byte> dest))
        {
            return false;
        }

        dest[0] = 0;
        dest[1] = 0;
        dest[2] = (byte)(code / 100);
        dest[3] = (byte)(code % 100);
        reason.CopyTo(dest[4..]);
        return true;
    }

    /// <summary>XOR-MAPPED-ADDRESS from a raw address (4 or 16 bytes, network order) and port.</summary>
    public bool AddXorMappedAddress(scoped ReadOnlySpan<byte> address, int port) =>
        AddXorAddress(StunAttributeType.XorMappedAddress, address, port);

    /// <summary>Any XOR-encoded address attribute (TURN's XOR-PEER-ADDRESS, for one) from an end point.</summary>
    public bool AddXorAddress(StunAttributeType type, IPEndPoint endPoint)
    {
        Span<byte> address = stackalloc byte[16];
        return endPoint.Address.TryWriteBytes(address, out int written) && AddXorAddress(type, address[..written], endPoint.Port);
    }

    /// <summary>A four-byte attribute value in network order (TURN's LIFETIME, REQUESTED-TRANSPORT, CHANNEL-NUMBER).</summary>
    public bool AddUInt32(StunAttributeType type, uint value)
    {
        if (!TryReserve((ushort)type, 4, out Span<byte> dest))
        {
            return false;
        }

        BinaryPrimitives.WriteUInt32BigEndian(dest, value);
        return true;
    }

    private bool AddXorAddress(StunAttributeType type, scoped ReadOnlySpan<byte> address, int port)
    {
        if (address.Length is not (4 or 16) || (uint)port > ushort.MaxValue
            || !TryReserve((ushort)type, 4 + address.Length, out Span<byte> dest))
        {
            return false;
        }

        dest[0] = 0;
        dest[1] = address.Length == 4 ? (byte)1 : (byte)2;
        BinaryPrimitives.WriteUInt16BigEndian(dest[2..], (ushort)(port ^ (int)(StunConstants.MagicCookie >> 16)));
        // Cookie then transaction id: header bytes 4..19, already written.
        ReadOnlySpan<byte> mask = _buffer.Slice(4, 16);
        for (int i = 0; i < address.Length; i++)
        {
            dest[4 + i] = (byte)(address[i] ^ mask[i]);
        }

        return true;
    }

    /// <summary>
    /// XOR-MAPPED-ADDRESS straight from a received <see cref="SocketAddress"/>, without allocating. The port
    /// and address sit at the offsets of sockaddr_in / sockaddr_in6, the same on every platform .NET runs on.
    /// </summary>
    public bool AddXorMappedAddress(SocketAddress source)
    {
        ReadOnlySpan<byte> raw = source.Buffer.Span[..source.Size];
        int port = raw.Length >= 4 ? BinaryPrimitives.ReadUInt16BigEndian(raw[2..]) : 0;
        return source.Family switch
        {
            AddressFamily.InterNetwork when raw.Length >= 8 => AddXorMappedAddress(raw.Slice(4, 4), port),
            AddressFamily.InterNetworkV6 when raw.Length >= 24 => AddXorMappedAddress(raw.Slice(8, 16), port),
            _ => false,
        };
    }

    public bool AddXorMappedAddress(IPEndPoint endPoint) => AddXorAddress(StunAttributeType.XorMappedAddress, endPoint);

    /// <summary>
    /// MESSAGE-INTEGRITY over everything written so far (with the length already counting this attribute).
    /// For ICE the key is the password's UTF-8 bytes.
    /// </summary>
    public bool AddMessageIntegrity(scoped ReadOnlySpan<byte> key)
    {
        int covered = _length;
        if (!TryReserve((ushort)StunAttributeType.MessageIntegrity, StunConstants.MessageIntegrityLength, out Span<byte> dest))
        {
            return false;
        }

        HMACSHA1.HashData(key, _buffer[..covered], dest);
        return true;
    }

    /// <summary>FINGERPRINT; must be the last attribute.</summary>
    public bool AddFingerprint()
    {
        int covered = _length;
        if (!TryReserve((ushort)StunAttributeType.Fingerprint, 4, out Span<byte> dest))
        {
            return false;
        }

        BinaryPrimitives.WriteUInt32BigEndian(dest, Crc32.Compute(_buffer[..covered]) ^ StunConstants.FingerprintXor);
        return true;
    }

    private bool AddUInt64(ushort type, ulong value)
    {
        if (!TryReserve(type, 8, out Span<byte> dest))
        {
            return false;
        }

        BinaryPrimitives.WriteUInt64BigEndian(dest, value);
        return true;
    }

    /// <summary>
    /// Writes an attribute header, zeroes the padding, bumps the header length, and hands back the value slot.
    /// </summary>
    private bool TryReserve(ushort type, int valueLength, out Span<byte> value)
    {
        int padded = (valueLength + 3) & ~3;
        int newLength = _length + 4 + padded;
        if (valueLength > ushort.MaxValue || newLength > _buffer.Length || newLength - StunConstants.HeaderLength > ushort.MaxValue)
        {
            value = default;
            return false;
        }

        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_length..], type);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[(_length + 2)..], (ushort)valueLength);
        value = _buffer.Slice(_length + 4, valueLength);
        _buffer.Slice(_length + 4 + valueLength, padded - valueLength).Clear();
        _length = newLength;
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[2..], (ushort)(newLength - StunConstants.HeaderLength));
        return true;
    }
}
