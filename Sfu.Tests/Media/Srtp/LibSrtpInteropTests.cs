using Sfu.Media.Srtp;
using Sfu.Tests.Interop.LibSrtp;
using static Sfu.Tests.Media.Srtp.SrtpTestPackets;
using Native = Sfu.Tests.Interop.Interop.LibSrtp;

namespace Sfu.Tests.Media.Srtp;

/// <summary>
/// Our SRTP against libsrtp2, the implementation browsers and other SFUs use: what one side
/// protects the other must unprotect, over random packets, several SSRCs and sequence wraps.
/// </summary>
[TestFixture(SrtpProfile.Aes128CmHmacSha1_80)]
[TestFixture(SrtpProfile.Aes128CmHmacSha1_32)]
[TestFixture(SrtpProfile.AeadAes128Gcm)]
public class LibSrtpInteropTests(SrtpProfile profile)
{
    private const int Packets = 1500;

    private Random _random = null!;
    private SrtpMasterKeyMaterial _key = null!;

    [SetUp]
    public void SetUp()
    {
        _random = new Random(20240 + (int)profile);
        _key = RandomKey(_random, profile);
    }

    [Test]
    public unsafe void PolicyStruct_HasTheSizeOfSrtpPolicyT() =>
        Assert.That(sizeof(Native.Policy), Is.EqualTo(128));

    [Test]
    public void Rtp_ProtectedByUs_IsUnprotectedByLibsrtp()
    {
        using SrtpContext ours = _key.CreateContext();
        using LibSrtpSession theirs = Session(outbound: false);

        foreach (byte[] plain in RtpRun())
        {
            byte[] buffer = WithRoom(plain);
            Assert.That(ours.Protect(buffer, plain.Length, out int length), Is.EqualTo(SrtpStatus.Ok));

            Assert.That(theirs.Unprotect(buffer, ref length), Is.EqualTo(Native.Status.Ok), Describe(plain));
            Assert.That(buffer.AsSpan(0, length).ToArray(), Is.EqualTo(plain), Describe(plain));
        }
    }

    [Test]
    public void Rtp_ProtectedByLibsrtp_IsUnprotectedByUs()
    {
        using LibSrtpSession theirs = Session(outbound: true);
        using SrtpContext ours = _key.CreateContext();

        foreach (byte[] plain in RtpRun())
        {
            byte[] buffer = WithRoom(plain);
            int length = plain.Length;
            Assert.That(theirs.Protect(buffer, ref length), Is.EqualTo(Native.Status.Ok));

            Assert.That(ours.Unprotect(buffer, length, out int plainLength), Is.EqualTo(SrtpStatus.Ok), Describe(plain));
            Assert.That(buffer.AsSpan(0, plainLength).ToArray(), Is.EqualTo(plain), Describe(plain));
        }
    }

    [Test]
    public void Rtp_ProtectedByUsAndByLibsrtp_IsByteForByteTheSame()
    {
        using SrtpContext ours = _key.CreateContext();
        using LibSrtpSession theirs = Session(outbound: true);

        foreach (byte[] plain in RtpRun().Take(300))
        {
            byte[] mine = WithRoom(plain);
            byte[] reference = WithRoom(plain);
            ours.Protect(mine, plain.Length, out int myLength);
            int referenceLength = plain.Length;
            theirs.Protect(reference, ref referenceLength);

            Assert.That(mine.AsSpan(0, myLength).ToArray(), Is.EqualTo(reference.AsSpan(0, referenceLength).ToArray()), Describe(plain));
        }
    }

    [Test]
    public void Rtp_TamperedByUs_IsRejectedByLibsrtp()
    {
        using SrtpContext ours = _key.CreateContext();
        using LibSrtpSession theirs = Session(outbound: false);
        byte[] plain = MakeRtp(_random, 42, 7, 300);
        byte[] buffer = WithRoom(plain);
        ours.Protect(buffer, plain.Length, out int length);
        buffer[100] ^= 0x20;

        Assert.That(theirs.Unprotect(buffer, ref length), Is.EqualTo(Native.Status.AuthFail));
    }

    [Test]
    public void Rtcp_ProtectedByUs_IsUnprotectedByLibsrtp()
    {
        using SrtpContext ours = _key.CreateContext();
        using LibSrtpSession theirs = Session(outbound: false);

        foreach (byte[] plain in RtcpRun())
        {
            byte[] buffer = WithRoom(plain);
            Assert.That(ours.ProtectRtcp(buffer, plain.Length, out int length), Is.EqualTo(SrtpStatus.Ok));

            Assert.That(theirs.UnprotectRtcp(buffer, ref length), Is.EqualTo(Native.Status.Ok), $"{plain.Length} bytes");
            Assert.That(buffer.AsSpan(0, length).ToArray(), Is.EqualTo(plain));
        }
    }

    [Test]
    public void Rtcp_ProtectedByLibsrtp_IsUnprotectedByUs()
    {
        using LibSrtpSession theirs = Session(outbound: true);
        using SrtpContext ours = _key.CreateContext();

        foreach (byte[] plain in RtcpRun())
        {
            byte[] buffer = WithRoom(plain);
            int length = plain.Length;
            Assert.That(theirs.ProtectRtcp(buffer, ref length), Is.EqualTo(Native.Status.Ok));

            Assert.That(ours.UnprotectRtcp(buffer, length, out int plainLength), Is.EqualTo(SrtpStatus.Ok), $"{plain.Length} bytes");
            Assert.That(buffer.AsSpan(0, plainLength).ToArray(), Is.EqualTo(plain));
        }
    }

    /// <summary>
    /// Random RTP packets from four SSRCs, interleaved, each starting a few hundred packets
    /// before a sequence wrap so every stream crosses 65535 -> 0 (and so changes ROC).
    /// </summary>
    private IEnumerable<byte[]> RtpRun()
    {
        uint[] ssrcs = [.. Enumerable.Range(0, 4).Select(_ => (uint)_random.NextInt64(1, uint.MaxValue))];
        ushort[] sequence = [.. ssrcs.Select(_ => (ushort)(65536 - _random.Next(1, Packets / 4)))];
        for (int i = 0; i < Packets; i++)
        {
            int s = _random.Next(ssrcs.Length);
            int csrcs = _random.Next(4) == 0 ? _random.Next(1, 4) : 0;
            int extension = _random.Next(3) == 0 ? _random.Next(0, 4) : -1;
            yield return MakeRtp(_random, ssrcs[s], sequence[s]++, _random.Next(0, 1201), csrcs, extension);
        }
    }

    private IEnumerable<byte[]> RtcpRun()
    {
        uint[] ssrcs = [.. Enumerable.Range(0, 3).Select(_ => (uint)_random.NextInt64(1, uint.MaxValue))];
        for (int i = 0; i < 300; i++)
        {
            yield return MakeRtcp(_random, ssrcs[_random.Next(ssrcs.Length)], _random.Next(0, 300));
        }
    }

    private LibSrtpSession Session(bool outbound)
    {
        try
        {
            return LibSrtpSession.Create(profile, _key.Key, _key.Salt, outbound);
        }
        catch (InvalidOperationException e) when (profile == SrtpProfile.AeadAes128Gcm)
        {
            // Only if this libsrtp build has no GCM at all (built without a crypto library).
            Assert.Ignore($"libsrtp {LibSrtpSession.Version} refuses AES-GCM: {e.Message}");
            throw;
        }
    }

    private static string Describe(byte[] plain) =>
        $"seq {(plain[2] << 8) | plain[3]}, {plain.Length} bytes, first byte 0x{plain[0]:x2}";
}
