using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Sfu.Media.Srtp;

/// <summary>
/// AEAD_AES_128_GCM for SRTP and SRTCP (RFC 7714): 12-byte IV from the session salt, SSRC and
/// index; the RTP header (or SRTCP header plus E + index) as associated data; a 16-byte tag.
/// </summary>
internal sealed class AeadAesGcmSuite : SrtpCipherSuite
{
    private const int TagLength = GcmEngine.TagLength;
    private const int IndexLength = 4;
    private const int NonceLength = 12;
    private const int RtcpHeaderLength = 8;
    private const int StackScratchLimit = 2048;

    private readonly GcmEngine _rtp;
    private readonly GcmEngine _rtcp;
    private readonly byte[] _rtpSalt;
    private readonly byte[] _rtcpSalt;

    public AeadAesGcmSuite(SrtpSessionKeys keys, bool allowIntrinsics = true)
    {
        _rtp = GcmEngine.Create(keys.RtpKey, allowIntrinsics);
        _rtcp = GcmEngine.Create(keys.RtcpKey, allowIntrinsics);
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
        _rtp.Seal(nonce, packet[headerLength..length], packet[..headerLength], packet.Slice(length, TagLength));
    }

    public override bool UnprotectRtp(Span<byte> packet, int length, int headerLength, uint ssrc, ulong index)
    {
        Span<byte> nonce = stackalloc byte[NonceLength];
        BuildRtpNonce(_rtpSalt, ssrc, index, nonce);
        int end = length - TagLength;
        return _rtp.Open(nonce, packet[headerLength..end], packet[..headerLength], packet.Slice(end, TagLength));
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

        _rtcp.Seal(nonce, packet[RtcpHeaderLength..length], aad, packet.Slice(length, TagLength));
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
            return _rtcp.Open(nonce, packet[RtcpHeaderLength..tagStart], aad, tag);
        }

        // E = 0: the whole packet is associated data and nothing is encrypted (RFC 7714 section 9.3).
        // Senders rarely do this, so the copy that joins the packet to its index word is fine.
        int aadLength = tagStart + IndexLength;
        byte[]? rented = aadLength > StackScratchLimit ? ArrayPool<byte>.Shared.Rent(aadLength) : null;
        Span<byte> whole = rented is null ? stackalloc byte[StackScratchLimit] : rented;
        whole = whole[..aadLength];
        packet[..tagStart].CopyTo(whole);
        indexWord.CopyTo(whole.Slice(tagStart));
        bool authentic = _rtcp.Open(nonce, Span<byte>.Empty, whole, tag);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return authentic;
    }

    public override void Dispose()
    {
        _rtp.Dispose();
        _rtcp.Dispose();
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
