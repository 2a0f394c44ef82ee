using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Sfu.Media.Srtp;

/// <summary>
/// HMAC-SHA1 under one session authentication key, truncated to the profile's tag length.
/// One keyed <see cref="IncrementalHash"/> is kept and reset after each tag, so the key's
/// inner and outer pads are not recomputed per packet and nothing is allocated.
/// </summary>
internal sealed class HmacSha1Authenticator : IDisposable
{
    private const int FullLength = 20;

    private readonly IncrementalHash _hmac;

    public HmacSha1Authenticator(ReadOnlySpan<byte> key) =>
        _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, key);

    /// <summary>Tag over <paramref name="data"/> followed by a big-endian 32-bit <paramref name="trailer"/> (SRTP's ROC).</summary>
    public void Compute(ReadOnlySpan<byte> data, uint trailer, Span<byte> tag)
    {
        Span<byte> rocBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(rocBytes, trailer);
        _hmac.AppendData(data);
        _hmac.AppendData(rocBytes);
        Finish(tag);
    }

    /// <summary>Tag over <paramref name="data"/> alone (SRTCP, whose index is already in the packet).</summary>
    public void Compute(ReadOnlySpan<byte> data, Span<byte> tag)
    {
        _hmac.AppendData(data);
        Finish(tag);
    }

    public void Dispose() => _hmac.Dispose();

    private void Finish(Span<byte> tag)
    {
        Span<byte> full = stackalloc byte[FullLength];
        _hmac.GetHashAndReset(full);
        full.Slice(0, tag.Length).CopyTo(tag);
    }
}
