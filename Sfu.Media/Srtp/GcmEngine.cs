using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Sfu.Media.Srtp;

/// <summary>AES-128-GCM with a 12-byte nonce and 16-byte tag, in place, reporting a bad tag as false.</summary>
internal abstract class GcmEngine : IDisposable
{
    public const int TagLength = 16;

    /// <summary>The fastest engine this machine runs: <see cref="GcmHardware"/> where it can, else <see cref="GcmPlatform"/>.</summary>
    public static GcmEngine Create(ReadOnlySpan<byte> key, bool allowIntrinsics = true) =>
        allowIntrinsics && GcmHardware.IsSupported ? new GcmHardware(key) : new GcmPlatform(key);

    /// <summary>Encrypts <paramref name="data"/> in place and writes the tag.</summary>
    public abstract void Seal(ReadOnlySpan<byte> nonce, Span<byte> data, ReadOnlySpan<byte> aad, Span<byte> tag);

    /// <summary>Decrypts <paramref name="data"/> in place if <paramref name="tag"/> is right; otherwise leaves it unchanged and returns false.</summary>
    public abstract bool Open(ReadOnlySpan<byte> nonce, Span<byte> data, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> tag);

    public abstract void Dispose();
}

/// <summary>
/// GCM through the platform's <see cref="AesGcm"/>, for machines without AES-NI/PCLMULQDQ.
/// </summary>
/// <remarks>
/// <see cref="AesGcm"/>'s Decrypt reports a bad tag by throwing, and forged packets are routine
/// on a public port. So Open checks the tag without it: GCM's keystream is counter mode from
/// inc32(J0), so the data is decrypted with <see cref="AesCounterMode"/>, encrypted again with
/// <see cref="AesGcm"/> to learn the tag the sender must have sent, and the tags compared. The
/// re-encryption goes to scratch, which holds the original ciphertext to put back on a bad tag.
/// </remarks>
internal sealed class GcmPlatform : GcmEngine
{
    private const int NonceLength = 12;
    private const int StackScratchLimit = 2048;

    private readonly AesGcm _gcm;
    private readonly AesCounterMode _ctr;

    public GcmPlatform(ReadOnlySpan<byte> key)
    {
        _gcm = new AesGcm(key, TagLength);
        _ctr = new AesCounterMode(key);
    }

    public override void Seal(ReadOnlySpan<byte> nonce, Span<byte> data, ReadOnlySpan<byte> aad, Span<byte> tag) =>
        _gcm.Encrypt(nonce, data, data, tag, aad);

    [SkipLocalsInit]
    public override bool Open(ReadOnlySpan<byte> nonce, Span<byte> data, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> tag)
    {
        Span<byte> counter = stackalloc byte[16];
        nonce.CopyTo(counter);
        BinaryPrimitives.WriteUInt32BigEndian(counter.Slice(NonceLength), 2);
        _ctr.Transform(counter, data);

        byte[]? rented = data.Length > StackScratchLimit ? ArrayPool<byte>.Shared.Rent(data.Length) : null;
        Span<byte> scratch = rented is null ? stackalloc byte[StackScratchLimit] : rented;
        scratch = scratch[..data.Length];

        Span<byte> computed = stackalloc byte[TagLength];
        _gcm.Encrypt(nonce, data, scratch, computed, aad);
        bool authentic = CryptographicOperations.FixedTimeEquals(computed, tag);
        if (!authentic)
        {
            scratch.CopyTo(data);
        }

        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return authentic;
    }

    public override void Dispose()
    {
        _gcm.Dispose();
        _ctr.Dispose();
    }
}
