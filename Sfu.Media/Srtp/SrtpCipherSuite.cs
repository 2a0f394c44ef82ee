namespace Sfu.Media.Srtp;

/// <summary>
/// The cryptographic transform of one profile: encryption and authentication of a packet whose
/// index is already known. Parsing, ROC and replay bookkeeping stay in <see cref="SrtpContext"/>.
/// Each method works in place on <c>packet</c>, which holds the whole packet plus room for the trailer.
/// </summary>
internal abstract class SrtpCipherSuite : IDisposable
{
    /// <summary>Bytes appended to an RTP packet (the tag).</summary>
    public abstract int RtpOverhead { get; }

    /// <summary>Bytes appended to an RTCP packet (tag and E + SRTCP index).</summary>
    public abstract int RtcpOverhead { get; }

    /// <summary>Where the 4-byte E + SRTCP index word starts, counted back from the end of an SRTCP packet.</summary>
    public abstract int RtcpIndexFromEnd { get; }

    /// <summary>Encrypts <c>packet[headerLength..length]</c> and writes the tag at <c>packet[length..]</c>.</summary>
    public abstract void ProtectRtp(Span<byte> packet, int length, int headerLength, uint ssrc, ulong index);

    /// <summary>
    /// Verifies the tag at the end of <c>packet[..length]</c>, then decrypts the payload.
    /// Returns false, without decrypting, when the tag does not match.
    /// </summary>
    public abstract bool UnprotectRtp(Span<byte> packet, int length, int headerLength, uint ssrc, ulong index);

    /// <summary>Encrypts <c>packet[8..length]</c>, appends E + index and the tag.</summary>
    public abstract void ProtectRtcp(Span<byte> packet, int length, uint ssrc, uint index);

    /// <summary>Verifies and, if <paramref name="encrypted"/>, decrypts an SRTCP packet of <paramref name="length"/> bytes.</summary>
    public abstract bool UnprotectRtcp(Span<byte> packet, int length, uint ssrc, uint index, bool encrypted);

    public abstract void Dispose();

    public static SrtpCipherSuite Create(SrtpProfile profile, SrtpSessionKeys keys) =>
        profile.IsAead()
            ? new AeadAesGcmSuite(keys)
            : new AesCmHmacSha1Suite(keys, profile.RtpTagLength(), profile.RtcpTagLength());
}
