using System.Buffers.Binary;

namespace Sfu.Tests.Media.Srtp;

/// <summary>Plain RTP and RTCP packets for SRTP tests, with room left for the SRTP trailer.</summary>
internal static class SrtpTestPackets
{
    public const int Trailer = 64;

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    /// <summary>An RTP packet of <paramref name="payloadLength"/> random payload bytes, optionally with CSRCs and a header extension.</summary>
    public static byte[] MakeRtp(Random random, uint ssrc, ushort sequence, int payloadLength, int csrcCount = 0, int extensionWords = -1)
    {
        int headerLength = 12 + 4 * csrcCount + (extensionWords >= 0 ? 4 + 4 * extensionWords : 0);
        var packet = new byte[headerLength + payloadLength];
        packet[0] = (byte)(0x80 | (extensionWords >= 0 ? 0x10 : 0) | csrcCount);
        packet[1] = 96;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), sequence);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), (uint)random.Next());
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), ssrc);
        random.NextBytes(packet.AsSpan(12, headerLength - 12));
        if (extensionWords >= 0)
        {
            int extension = 12 + 4 * csrcCount;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(extension), 0xBEDE);
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(extension + 2), (ushort)extensionWords);
        }

        random.NextBytes(packet.AsSpan(headerLength));
        return packet;
    }

    /// <summary>A receiver-report-shaped RTCP packet from <paramref name="ssrc"/>, whole 32-bit words long.</summary>
    public static byte[] MakeRtcp(Random random, uint ssrc, int bodyWords)
    {
        var packet = new byte[8 + 4 * bodyWords];
        packet[0] = 0x80;
        packet[1] = 201;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)(1 + bodyWords));
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), ssrc);
        random.NextBytes(packet.AsSpan(8));
        return packet;
    }

    /// <summary>A copy of <paramref name="packet"/> in a buffer with <see cref="Trailer"/> spare bytes.</summary>
    public static byte[] WithRoom(byte[] packet)
    {
        var buffer = new byte[packet.Length + Trailer];
        packet.CopyTo(buffer, 0);
        return buffer;
    }

    public static SrtpMasterKeyMaterial RandomKey(Random random, Sfu.Media.Srtp.SrtpProfile profile)
    {
        var key = new byte[Sfu.Media.Srtp.SrtpProfileExtensions.KeyLength(profile)];
        var salt = new byte[Sfu.Media.Srtp.SrtpProfileExtensions.SaltLength(profile)];
        random.NextBytes(key);
        random.NextBytes(salt);
        return new SrtpMasterKeyMaterial(profile, key, salt);
    }
}

internal sealed record SrtpMasterKeyMaterial(Sfu.Media.Srtp.SrtpProfile Profile, byte[] Key, byte[] Salt)
{
    public Sfu.Media.Srtp.SrtpContext CreateContext() => new(Profile, Key, Salt);
}
