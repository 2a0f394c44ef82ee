using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Sfu.Media.Srtp;

namespace Sfu.Benchmarks;

/// <summary>
/// The choices inside AES_CM_128_HMAC_SHA1_80, over one 1188-byte payload: AES-NI counter mode
/// against the platform's ECB transform, a reused keyed IncrementalHash against one-shot HMAC,
/// and GCM on our CLMUL GHASH against the platform's AesGcm.
/// </summary>
[MemoryDiagnoser]
public class SrtpPrimitiveBenchmarks
{
    private readonly byte[] _data = new byte[1188];
    private readonly byte[] _counter = new byte[16];
    private readonly byte[] _authKey = new byte[20];
    private readonly byte[] _tag = new byte[20];
    private AesCounterMode _intrinsics = null!;
    private AesCounterMode _platform = null!;
    private HmacSha1Authenticator _reused = null!;
    private GcmEngine _gcmHardware = null!;
    private GcmEngine _gcmPlatform = null!;
    private readonly byte[] _nonce = new byte[12];
    private readonly byte[] _header = new byte[12];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(3);
        random.NextBytes(_data);
        random.NextBytes(_authKey);
        byte[] key = new byte[16];
        random.NextBytes(key);
        _intrinsics = new AesCounterMode(key, allowIntrinsics: true);
        _platform = new AesCounterMode(key, allowIntrinsics: false);
        _reused = new HmacSha1Authenticator(_authKey);
        _gcmHardware = GcmEngine.Create(key, allowIntrinsics: true);
        _gcmPlatform = GcmEngine.Create(key, allowIntrinsics: false);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _intrinsics.Dispose();
        _platform.Dispose();
        _reused.Dispose();
        _gcmHardware.Dispose();
        _gcmPlatform.Dispose();
    }

    [Benchmark]
    public void AesCm_Intrinsics() => _intrinsics.Transform(_counter, _data);

    [Benchmark]
    public void AesCm_PlatformEcb() => _platform.Transform(_counter, _data);

    [Benchmark]
    public void Hmac_ReusedIncrementalHash() => _reused.Compute(_data, 7, _tag.AsSpan(0, 10));

    [Benchmark]
    public int Hmac_OneShot() => HMACSHA1.HashData(_authKey, _data, _tag);

    [Benchmark]
    public void GcmSeal_ClmulGhash() => _gcmHardware.Seal(_nonce, _data, _header, _tag.AsSpan(0, 16));

    [Benchmark]
    public void GcmSeal_PlatformAesGcm() => _gcmPlatform.Seal(_nonce, _data, _header, _tag.AsSpan(0, 16));
}
