using Sfu.Media.Srtp;

namespace Sfu.Fuzz.Targets;

/// <summary>
/// SRTP and SRTCP as a transport unprotects them, with fixed master keys. The first input byte chooses the profile
/// (bit 0: AES_CM_128_HMAC_SHA1_80 or AEAD_AES_128_GCM), RTP or RTCP (bit 1), and whether each packet arrives as
/// sent (bit 2 clear: almost always a forgery, refused by authentication) or is first protected by a sender with the
/// same keys (bit 2 set), which takes it through decryption, index estimation and the replay window. The rest is a
/// sequence of packets (<see cref="Datagrams"/>) into one receiving context. A packet protected and then accepted
/// must come back byte for byte.
/// </summary>
public sealed class SrtpTarget : FuzzTarget
{
    private const int Trailer = 64;

    private static readonly byte[] Key = Convert.FromHexString("E1F97A0D3E018BE0D64FA32C06DE4139");
    private static readonly byte[] Salt = Convert.FromHexString("0EC675AD498AFEEBB6960B3AABE6");

    public override void Execute(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var profile = (input[0] & 1) == 0 ? SrtpProfile.Aes128CmHmacSha1_80 : SrtpProfile.AeadAes128Gcm;
        bool rtcp = (input[0] & 2) != 0;
        bool protectFirst = (input[0] & 4) != 0;
        using var sender = new SrtpContext(profile, Key, Salt[..profile.SaltLength()]);
        using var receiver = new SrtpContext(profile, Key, Salt[..profile.SaltLength()]);
        foreach (var packet in new Datagrams(input[1..]))
        {
            var buffer = new byte[packet.Length + Trailer];
            packet.CopyTo(buffer);
            int length = packet.Length;
            if (protectFirst)
            {
                var sent = rtcp ? sender.ProtectRtcp(buffer, length, out length) : sender.Protect(buffer, length, out length);
                if (sent != SrtpStatus.Ok)
                {
                    continue;
                }
            }

            var received = rtcp ? receiver.UnprotectRtcp(buffer, length, out int plain) : receiver.Unprotect(buffer, length, out plain);
            if (protectFirst && received == SrtpStatus.Ok && !buffer.AsSpan(0, plain).SequenceEqual(packet))
            {
                throw new InvalidOperationException("a protected packet did not unprotect to what was sent");
            }
        }
    }
}
