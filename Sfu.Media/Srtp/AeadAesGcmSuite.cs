using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Sfu.Media.Srtp;

/// <summary>
/// AEAD_AES_128_GCM for SRTP and SRTCP (RFC 7714): 12-byte IV from the session salt, SSRC and
/// index; the RTP header (or SRTCP header plus E + index) as associated data; a 16-byte tag.
/// </summary>
/// <remarks>
/// <see cref="AesGcm.Decrypt(ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte}, ReadOnlySpan{byte})"/>
/// reports a bad tag by throwing, and forged packets are routine on a public port. So receiving
/// checks the tag without it: GCM's keystream is plain counter mode from inc32(J0), so the payload
/// is decrypted with <see cref="AesCounterMode"/>, encrypted again with <see cref="AesGcm"/> to
/// learn the tag the sender must have sent, and the two tags are compared. The re-encryption goes
/// to scratch, which also holds the original ciphertext to put back if the tag is wrong.
/// </remarks>
internal sealed class AeadAesGcmSuite : SrtpCipherSuite
{
    private const int TagLength = 16;
    private const int IndexLength = 4;
    private const int NonceLength = 12;
    private const int RtcpHeaderLength = 8;
    private const int StackScratchLimit = 2048;

    private readonly AesGcm _rtpGcm;
    private readonly AesGcm _rtcpGcm;
    private readonly AesCounterMode _rtpCtr;
    private readonly AesCounterMode _rtcpCtr;
    private readonly byte[] _rtpSalt;
    private readonly byte[] _rtcpSalt;

    public AeadAesGcmSuite(SrtpSessionKeys keys)
    {
        _rtpGcm = new AesGcm(keys.RtpKey, TagLength);
        _rtcpGcm = new AesGcm(keys.RtcpKey, TagLength);
        _rtpCtr = new AesCounterMode(keys.RtpKey);
        _rtcpCtr = new AesCounterMode(keys.RtcpKey);
        _rtpSalt = keys.RtpSalt;
        _rtcpSalt = keys.RtcpSalt;
    }

    public override int RtpOverhead => TagLength;

    public override int RtcpOverhead => TagLength + IndexLength;

    public override int RtcpIndexFromEnd => IndexLength;

    public override void ProtectRtp(Span<byte> packet, int length, int headerLength, uint ssrc, ulong index)
    {
        Span<byte> nonce = stackalloc byte[NonceLength];
        BuildRtpNonce(_rtpSalt, ssrc, index, nonce);
        Span<byte> payload = packet[headerLength..length];
        _rtpGcm.Encrypt(nonce, payload, payload, packet.Slice(length, TagLength), packet[..headerLength]);
    }

    public override bool UnprotectRtp(Span<byte> packet, int length, int headerLength, uint ssrc, ulong index)
    {
        Span<byte> nonce = stackalloc byte[NonceLength];
        BuildRtpNonce(_rtpSalt, ssrc, index, nonce);
        int end = length - TagLength;
        return Open(_rtpGcm, _rtpCtr, nonce, packet[headerLength..end], packet[..headerLength], packet.Slice(end, TagLength));
    }

    public override void ProtectRtcp(Span<byte> packet, int length, uint ssrc, uint index)
    {
        Span<byte> nonce = stackalloc byte[NonceLength];
        BuildRtcpNonce(_rtcpSalt, ssrc, index, nonce);

        // Wire order is header | ciphertext | tag | E+index, but the associated data is
        // header || E+index (RFC 7714 section 9.2), so it is assembled apart.
        Span<byte> aad = stackalloc byte[RtcpHeaderLength + IndexLength];
        packet[..RtcpHeaderLength].CopyTo(aad);
        BinaryPrimitives.WriteUInt32BigEndian(aad.Slice(RtcpHeaderLength), index | 0x8000_0000u);

        Span<byte> payload = packet[RtcpHeaderLength..length];
        _rtcpGcm.Encrypt(nonce, payload, payload, packet.Slice(length, TagLength), aad);
        aad.Slice(RtcpHeaderLength).CopyTo(packet.Slice(length + TagLength));
    }

    [SkipLocalsInit]
    public override bool UnprotectRtcp(Span<byte> packet, int length, uint ssrc, uint index, bool encrypted)
    {
        Span<byte> nonce = stackalloc byte[NonceLength];
        BuildRtcpNonce(_rtcpSalt, ssrc, index, nonce);
        int tagStart = length - IndexLength - TagLength;
        ReadOnlySpan<byte> tag = packet.Slice(tagStart, TagLength);
        ReadOnlySpan<byte> indexWord = packet.Slice(length - IndexLength, IndexLength);

        if (encrypted)
        {
            Span<byte> aad = stackalloc byte[RtcpHeaderLength + IndexLength];
            packet[..RtcpHeaderLength].CopyTo(aad);
            indexWord.CopyTo(aad.Slice(RtcpHeaderLength));
            return Open(_rtcpGcm, _rtcpCtr, nonce, packet[RtcpHeaderLength..tagStart], aad, tag);
        }

        // E = 0: the whole packet is authenticated data and nothing is encrypted (RFC 7714 section 9.3).
        int aadLength = tagStart + IndexLength;
        byte[]? rented = aadLength > StackScratchLimit ? ArrayPool<byte>.Shared.Rent(aadLength) : null;
        Span<byte> whole = rented is null ? stackalloc byte[StackScratchLimit] : rented;
        whole = whole[..aadLength];
        packet[..tagStart].CopyTo(whole);
        indexWord.CopyTo(whole.Slice(tagStart));
        Span<byte> computed = stackalloc byte[TagLength];
        _rtcpGcm.Encrypt(nonce, ReadOnlySpan<byte>.Empty, Span<byte>.Empty, computed, whole);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return CryptographicOperations.FixedTimeEquals(computed, tag);
    }

    public override void Dispose()
    {
        _rtpGcm.Dispose();
        _rtcpGcm.Dispose();
        _rtpCtr.Dispose();
        _rtcpCtr.Dispose();
    }

    /// <summary>Decrypts <paramref name="ciphertext"/> in place if <paramref name="tag"/> is right; else leaves it as it was.</summary>
    [SkipLocalsInit]
    private static bool Open(AesGcm gcm, AesCounterMode ctr, ReadOnlySpan<byte> nonce, Span<byte> ciphertext, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> tag)
    {
        // GCM with a 96-bit IV: J0 = IV || 0x00000001, and the payload's first block uses inc32(J0).
        Span<byte> counter = stackalloc byte[16];
        nonce.CopyTo(counter);
        BinaryPrimitives.WriteUInt32BigEndian(counter.Slice(NonceLength), 2);
        ctr.Transform(counter, ciphertext);

        byte[]? rented = ciphertext.Length > StackScratchLimit ? ArrayPool<byte>.Shared.Rent(ciphertext.Length) : null;
        Span<byte> scratch = rented is null ? stackalloc byte[StackScratchLimit] : rented;
        scratch = scratch[..ciphertext.Length];

        Span<byte> computed = stackalloc byte[TagLength];
        gcm.Encrypt(nonce, ciphertext, scratch, computed, aad);
        bool authentic = CryptographicOperations.FixedTimeEquals(computed, tag);
        if (!authentic)
        {
            scratch.CopyTo(ciphertext);
        }

        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return authentic;
    }

    /// <summary>IV = (0x0000 || SSRC || ROC || SEQ) XOR salt (RFC 7714 section 8.1).</summary>
    internal static void BuildRtpNonce(ReadOnlySpan<byte> salt, uint ssrc, ulong index, Span<byte> nonce)
    {
        nonce[0] = 0;
        nonce[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(nonce.Slice(2), ssrc);
        BinaryPrimitives.WriteUInt32BigEndian(nonce.Slice(6), SrtpPacketIndex.Roc(index));
        BinaryPrimitives.WriteUInt16BigEndian(nonce.Slice(10), (ushort)index);
        XorSalt(salt, nonce);
    }

    /// <summary>IV = (0x0000 || SSRC || 0x0000 || 0 || SRTCP index) XOR salt (RFC 7714 section 9.1).</summary>
    internal static void BuildRtcpNonce(ReadOnlySpan<byte> salt, uint ssrc, uint index, Span<byte> nonce)
    {
        nonce.Clear();
        BinaryPrimitives.WriteUInt32BigEndian(nonce.Slice(2), ssrc);
        BinaryPrimitives.WriteUInt32BigEndian(nonce.Slice(8), index & 0x7FFF_FFFFu);
        XorSalt(salt, nonce);
    }

    private static void XorSalt(ReadOnlySpan<byte> salt, Span<byte> nonce)
    {
        for (int i = 0; i < NonceLength; i++)
        {
            nonce[i] ^= salt[i];
        }
    }
}
