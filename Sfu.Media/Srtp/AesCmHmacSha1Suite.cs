using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Sfu.Media.Srtp;

/// <summary>
/// AES_CM_128 encryption with HMAC-SHA1 authentication (RFC 3711 sections 4.1.1 and 4.2):
/// encrypt-then-MAC, and on receipt MAC-check-then-decrypt.
/// </summary>
internal sealed class AesCmHmacSha1Suite : SrtpCipherSuite
{
    private const int IndexLength = 4;

    private readonly AesCounterMode _rtpCipher;
    private readonly AesCounterMode _rtcpCipher;
    private readonly HmacSha1Authenticator _rtpAuth;
    private readonly HmacSha1Authenticator _rtcpAuth;
    private readonly byte[] _rtpSalt;
    private readonly byte[] _rtcpSalt;
    private readonly int _rtpTagLength;
    private readonly int _rtcpTagLength;

    public AesCmHmacSha1Suite(SrtpSessionKeys keys, int rtpTagLength, int rtcpTagLength, bool allowIntrinsics = true)
    {
        _rtpCipher = new AesCounterMode(keys.RtpKey, allowIntrinsics);
        _rtcpCipher = new AesCounterMode(keys.RtcpKey, allowIntrinsics);
        _rtpAuth = new HmacSha1Authenticator(keys.RtpAuthKey);
        _rtcpAuth = new HmacSha1Authenticator(keys.RtcpAuthKey);
        _rtpSalt = keys.RtpSalt;
        _rtcpSalt = keys.RtcpSalt;
        _rtpTagLength = rtpTagLength;
        _rtcpTagLength = rtcpTagLength;
    }

    public override int RtpOverhead => _rtpTagLength;

    public override int RtcpOverhead => _rtcpTagLength + IndexLength;

    public override int RtcpIndexFromEnd => _rtcpTagLength + IndexLength;

    public override void ProtectRtp(Span<byte> packet, int length, int headerLength, uint ssrc, ulong index)
    {
        Span<byte> iv = stackalloc byte[16];
        BuildIv(_rtpSalt, ssrc, index, iv);
        _rtpCipher.Transform(iv, packet[headerLength..length]);
        _rtpAuth.Compute(packet[..length], SrtpPacketIndex.Roc(index), packet.Slice(length, _rtpTagLength));
    }

    public override bool UnprotectRtp(Span<byte> packet, int length, int headerLength, uint ssrc, ulong index)
    {
        int authenticated = length - _rtpTagLength;
        Span<byte> expected = stackalloc byte[_rtpTagLength];
        _rtpAuth.Compute(packet[..authenticated], SrtpPacketIndex.Roc(index), expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, packet.Slice(authenticated, _rtpTagLength)))
        {
            return false;
        }

        Span<byte> iv = stackalloc byte[16];
        BuildIv(_rtpSalt, ssrc, index, iv);
        _rtpCipher.Transform(iv, packet[headerLength..authenticated]);
        return true;
    }

    public override void ProtectRtcp(Span<byte> packet, int length, uint ssrc, uint index)
    {
        Span<byte> iv = stackalloc byte[16];
        BuildIv(_rtcpSalt, ssrc, index, iv);
        _rtcpCipher.Transform(iv, packet[8..length]);
        BinaryPrimitives.WriteUInt32BigEndian(packet.Slice(length), index | 0x8000_0000u);
        _rtcpAuth.Compute(packet[..(length + IndexLength)], packet.Slice(length + IndexLength, _rtcpTagLength));
    }

    public override bool UnprotectRtcp(Span<byte> packet, int length, uint ssrc, uint index, bool encrypted)
    {
        int authenticated = length - _rtcpTagLength;
        Span<byte> expected = stackalloc byte[_rtcpTagLength];
        _rtcpAuth.Compute(packet[..authenticated], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, packet.Slice(authenticated, _rtcpTagLength)))
        {
            return false;
        }

        if (encrypted)
        {
            Span<byte> iv = stackalloc byte[16];
            BuildIv(_rtcpSalt, ssrc, index, iv);
            _rtcpCipher.Transform(iv, packet[8..(authenticated - IndexLength)]);
        }

        return true;
    }

    public override void Dispose()
    {
        _rtpCipher.Dispose();
        _rtcpCipher.Dispose();
        _rtpAuth.Dispose();
        _rtcpAuth.Dispose();
    }

    /// <summary>IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16) (RFC 3711 section 4.1.1).</summary>
    internal static void BuildIv(ReadOnlySpan<byte> salt, uint ssrc, ulong index, Span<byte> iv)
    {
        iv.Clear();
        salt.CopyTo(iv);
        BinaryPrimitives.WriteUInt32BigEndian(iv.Slice(4), BinaryPrimitives.ReadUInt32BigEndian(iv.Slice(4)) ^ ssrc);
        BinaryPrimitives.WriteUInt16BigEndian(iv.Slice(8), (ushort)(BinaryPrimitives.ReadUInt16BigEndian(iv.Slice(8)) ^ (ushort)(index >> 32)));
        BinaryPrimitives.WriteUInt32BigEndian(iv.Slice(10), BinaryPrimitives.ReadUInt32BigEndian(iv.Slice(10)) ^ (uint)index);
    }
}
