using Sfu.Media.Srtp;

namespace Sfu.Tests.Infrastructure;

/// <summary>SRTP master keys for tests that key transports directly: GCM, the same bytes for the same seed.</summary>
internal static class TestSrtpKeys
{
    public static SrtpMasterKey FromSeed(int seed)
    {
        var random = new Random(seed);
        var key = new byte[SrtpProfile.AeadAes128Gcm.KeyLength()];
        var salt = new byte[SrtpProfile.AeadAes128Gcm.SaltLength()];
        random.NextBytes(key);
        random.NextBytes(salt);
        return new SrtpMasterKey(SrtpProfile.AeadAes128Gcm, key, salt);
    }
}
