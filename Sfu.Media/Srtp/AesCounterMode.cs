using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;

namespace Sfu.Media.Srtp;

/// <summary>
/// AES-128 in counter mode: XORs data with AES(K, counter), AES(K, counter + 1), ... where the
/// last 32 bits of the 16-byte counter block count big-endian. That one rule serves both SRTP's
/// AES-CM (RFC 3711 section 4.1.1: the low 16 bits start at zero and a packet never needs 2^16
/// blocks) and GCM's inc32 (NIST SP 800-38D).
/// </summary>
/// <remarks>
/// With AES-NI the blocks are encrypted here, four at a time so the AES units stay busy, with no
/// call into native code. Without it, counter blocks go through a reused ECB transform from the
/// platform. Not thread-safe: the owning context serialises calls.
/// </remarks>
internal sealed class AesCounterMode : IDisposable
{
    private const int BlockSize = 16;
    private const int FallbackChunk = 32 * BlockSize;

    private RoundKeys _roundKeys;
    private readonly bool _useIntrinsics;

    // Fallback path only: a reused ECB encryptor and arrays it can write into, so a packet costs no allocation.
    private readonly System.Security.Cryptography.Aes? _aes;
    private readonly ICryptoTransform? _ecb;
    private readonly byte[]? _counterBlocks;
    private readonly byte[]? _keystream;

    public AesCounterMode(ReadOnlySpan<byte> key, bool allowIntrinsics = true)
    {
        if (key.Length != 16)
        {
            throw new ArgumentException("AES-128 needs a 16-byte key.", nameof(key));
        }

        _useIntrinsics = allowIntrinsics && IsHardwareAccelerated;
        if (_useIntrinsics)
        {
            ExpandKey(key, ref _roundKeys);
            return;
        }

        _aes = System.Security.Cryptography.Aes.Create();
        _aes.Key = key.ToArray();
        _aes.Mode = CipherMode.ECB;
        _aes.Padding = PaddingMode.None;
        _ecb = _aes.CreateEncryptor();
        _counterBlocks = new byte[FallbackChunk];
        _keystream = new byte[FallbackChunk];
    }

    /// <summary>True when this machine runs AES rounds as instructions (AES-NI).</summary>
    public static bool IsHardwareAccelerated => X86Aes.IsSupported && Sse2.IsSupported;

    /// <summary>Whether this instance uses the AES-NI path (false means the platform ECB fallback).</summary>
    public bool UsesIntrinsics => _useIntrinsics;

    /// <summary>XORs <paramref name="data"/> in place with the keystream that starts at <paramref name="counterBlock"/>.</summary>
    public void Transform(ReadOnlySpan<byte> counterBlock, Span<byte> data)
    {
        if (counterBlock.Length != BlockSize)
        {
            throw new ArgumentException("The counter block is 16 bytes.", nameof(counterBlock));
        }

        if (_useIntrinsics)
        {
            TransformIntrinsics(counterBlock, data);
        }
        else
        {
            TransformFallback(counterBlock, data);
        }
    }

    public void Dispose()
    {
        _ecb?.Dispose();
        _aes?.Dispose();
    }

    private void TransformIntrinsics(ReadOnlySpan<byte> counterBlock, Span<byte> data)
    {
        // The first 12 bytes never change; only the last 4 count. Keep them as two scalars
        // and build each block with one vector create instead of touching memory.
        ulong prefixLow = MemoryMarshal.Read<ulong>(counterBlock);
        ulong prefixHigh = MemoryMarshal.Read<uint>(counterBlock.Slice(8));
        uint counter = BinaryPrimitives.ReadUInt32BigEndian(counterBlock.Slice(12));

        Vector128<byte> k0 = _roundKeys[0], k1 = _roundKeys[1], k2 = _roundKeys[2], k3 = _roundKeys[3];
        Vector128<byte> k4 = _roundKeys[4], k5 = _roundKeys[5], k6 = _roundKeys[6], k7 = _roundKeys[7];
        Vector128<byte> k8 = _roundKeys[8], k9 = _roundKeys[9], k10 = _roundKeys[10];

        ref byte d = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint offset = 0;

        while (length - offset >= 4 * BlockSize)
        {
            Vector128<byte> b0 = Sse2.Xor(Block(prefixLow, prefixHigh, counter), k0);
            Vector128<byte> b1 = Sse2.Xor(Block(prefixLow, prefixHigh, counter + 1), k0);
            Vector128<byte> b2 = Sse2.Xor(Block(prefixLow, prefixHigh, counter + 2), k0);
            Vector128<byte> b3 = Sse2.Xor(Block(prefixLow, prefixHigh, counter + 3), k0);
            counter += 4;

            b0 = X86Aes.Encrypt(b0, k1); b1 = X86Aes.Encrypt(b1, k1); b2 = X86Aes.Encrypt(b2, k1); b3 = X86Aes.Encrypt(b3, k1);
            b0 = X86Aes.Encrypt(b0, k2); b1 = X86Aes.Encrypt(b1, k2); b2 = X86Aes.Encrypt(b2, k2); b3 = X86Aes.Encrypt(b3, k2);
            b0 = X86Aes.Encrypt(b0, k3); b1 = X86Aes.Encrypt(b1, k3); b2 = X86Aes.Encrypt(b2, k3); b3 = X86Aes.Encrypt(b3, k3);
            b0 = X86Aes.Encrypt(b0, k4); b1 = X86Aes.Encrypt(b1, k4); b2 = X86Aes.Encrypt(b2, k4); b3 = X86Aes.Encrypt(b3, k4);
            b0 = X86Aes.Encrypt(b0, k5); b1 = X86Aes.Encrypt(b1, k5); b2 = X86Aes.Encrypt(b2, k5); b3 = X86Aes.Encrypt(b3, k5);
            b0 = X86Aes.Encrypt(b0, k6); b1 = X86Aes.Encrypt(b1, k6); b2 = X86Aes.Encrypt(b2, k6); b3 = X86Aes.Encrypt(b3, k6);
            b0 = X86Aes.Encrypt(b0, k7); b1 = X86Aes.Encrypt(b1, k7); b2 = X86Aes.Encrypt(b2, k7); b3 = X86Aes.Encrypt(b3, k7);
            b0 = X86Aes.Encrypt(b0, k8); b1 = X86Aes.Encrypt(b1, k8); b2 = X86Aes.Encrypt(b2, k8); b3 = X86Aes.Encrypt(b3, k8);
            b0 = X86Aes.Encrypt(b0, k9); b1 = X86Aes.Encrypt(b1, k9); b2 = X86Aes.Encrypt(b2, k9); b3 = X86Aes.Encrypt(b3, k9);
            b0 = X86Aes.EncryptLast(b0, k10); b1 = X86Aes.EncryptLast(b1, k10); b2 = X86Aes.EncryptLast(b2, k10); b3 = X86Aes.EncryptLast(b3, k10);

            Sse2.Xor(Vector128.LoadUnsafe(ref d, offset), b0).StoreUnsafe(ref d, offset);
            Sse2.Xor(Vector128.LoadUnsafe(ref d, offset + 16), b1).StoreUnsafe(ref d, offset + 16);
            Sse2.Xor(Vector128.LoadUnsafe(ref d, offset + 32), b2).StoreUnsafe(ref d, offset + 32);
            Sse2.Xor(Vector128.LoadUnsafe(ref d, offset + 48), b3).StoreUnsafe(ref d, offset + 48);
            offset += 4 * BlockSize;
        }

        while (offset < length)
        {
            Vector128<byte> b = Sse2.Xor(Block(prefixLow, prefixHigh, counter), k0);
            counter++;
            b = X86Aes.Encrypt(b, k1);
            b = X86Aes.Encrypt(b, k2);
            b = X86Aes.Encrypt(b, k3);
            b = X86Aes.Encrypt(b, k4);
            b = X86Aes.Encrypt(b, k5);
            b = X86Aes.Encrypt(b, k6);
            b = X86Aes.Encrypt(b, k7);
            b = X86Aes.Encrypt(b, k8);
            b = X86Aes.Encrypt(b, k9);
            b = X86Aes.EncryptLast(b, k10);

            if (length - offset >= BlockSize)
            {
                Sse2.Xor(Vector128.LoadUnsafe(ref d, offset), b).StoreUnsafe(ref d, offset);
                offset += BlockSize;
            }
            else
            {
                for (int i = 0; offset < length; i++, offset++)
                {
                    Unsafe.Add(ref d, offset) ^= b.GetElement(i);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Block(ulong prefixLow, ulong prefixHigh, uint counter) =>
        Vector128.Create(prefixLow, prefixHigh | ((ulong)BinaryPrimitives.ReverseEndianness(counter) << 32)).AsByte();

    private void TransformFallback(ReadOnlySpan<byte> counterBlock, Span<byte> data)
    {
        byte[] blocks = _counterBlocks!;
        byte[] keystream = _keystream!;
        counterBlock.Slice(0, 12).CopyTo(blocks);
        uint counter = BinaryPrimitives.ReadUInt32BigEndian(counterBlock.Slice(12));

        for (int offset = 0; offset < data.Length; offset += FallbackChunk)
        {
            int chunk = Math.Min(FallbackChunk, data.Length - offset);
            int blockBytes = (chunk + BlockSize - 1) & ~(BlockSize - 1);
            for (int b = 0; b < blockBytes; b += BlockSize)
            {
                counterBlock.Slice(0, 12).CopyTo(blocks.AsSpan(b));
                BinaryPrimitives.WriteUInt32BigEndian(blocks.AsSpan(b + 12), counter++);
            }

            _ecb!.TransformBlock(blocks, 0, blockBytes, keystream, 0);
            Xor(data.Slice(offset, chunk), keystream.AsSpan(0, chunk));
        }
    }

    private static void Xor(Span<byte> data, ReadOnlySpan<byte> keystream)
    {
        int i = 0;
        for (; i <= data.Length - Vector128<byte>.Count; i += Vector128<byte>.Count)
        {
            (Vector128.Create(data.Slice(i)) ^ Vector128.Create(keystream.Slice(i))).CopyTo(data.Slice(i));
        }

        for (; i < data.Length; i++)
        {
            data[i] ^= keystream[i];
        }
    }

    /// <summary>AES-128 key schedule with AESKEYGENASSIST (FIPS 197 section 5.2).</summary>
    private static void ExpandKey(ReadOnlySpan<byte> key, ref RoundKeys keys)
    {
        Vector128<byte> k = Vector128.Create(key);
        keys[0] = k;
        keys[1] = k = NextRoundKey(k, X86Aes.KeygenAssist(k, 0x01));
        keys[2] = k = NextRoundKey(k, X86Aes.KeygenAssist(k, 0x02));
        keys[3] = k = NextRoundKey(k, X86Aes.KeygenAssist(k, 0x04));
        keys[4] = k = NextRoundKey(k, X86Aes.KeygenAssist(k, 0x08));
        keys[5] = k = NextRoundKey(k, X86Aes.KeygenAssist(k, 0x10));
        keys[6] = k = NextRoundKey(k, X86Aes.KeygenAssist(k, 0x20));
        keys[7] = k = NextRoundKey(k, X86Aes.KeygenAssist(k, 0x40));
        keys[8] = k = NextRoundKey(k, X86Aes.KeygenAssist(k, 0x80));
        keys[9] = k = NextRoundKey(k, X86Aes.KeygenAssist(k, 0x1B));
        keys[10] = NextRoundKey(k, X86Aes.KeygenAssist(k, 0x36));
    }

    private static Vector128<byte> NextRoundKey(Vector128<byte> key, Vector128<byte> assist)
    {
        // Broadcast RotWord(SubWord(w3)) ^ rcon, then fold the previous words in: w_i ^= w_{i-1}.
        assist = Sse2.Shuffle(assist.AsUInt32(), 0xFF).AsByte();
        key = Sse2.Xor(key, Sse2.ShiftLeftLogical128BitLane(key, 4));
        key = Sse2.Xor(key, Sse2.ShiftLeftLogical128BitLane(key, 4));
        key = Sse2.Xor(key, Sse2.ShiftLeftLogical128BitLane(key, 4));
        return Sse2.Xor(key, assist);
    }

    [InlineArray(11)]
    private struct RoundKeys
    {
        private Vector128<byte> _first;
    }
}
