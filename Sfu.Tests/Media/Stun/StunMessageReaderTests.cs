using System.Net;
using System.Security.Cryptography;
using System.Text;
using Sfu.Media.Stun;

namespace Sfu.Tests.Media.Stun;

public class StunMessageReaderTests
{
    private static readonly byte[] ShortTermKey = Encoding.UTF8.GetBytes(Rfc5769Vectors.ShortTermPassword);

    [Test]
    public void Parse_Rfc5769SampleRequest_VerifiesIntegrityAndFingerprint()
    {
        Assert.That(StunMessageReader.TryParse(Rfc5769Vectors.SampleRequest, out StunMessageReader m), Is.True);

        Assert.That(m.MessageType, Is.EqualTo(StunMessageType.BindingRequest));
        Assert.That(m.Class, Is.EqualTo(StunClass.Request));
        Assert.That(m.Method, Is.EqualTo(StunMethod.Binding));
        Assert.That(m.TransactionId.ToArray(), Is.EqualTo(Rfc5769Vectors.TransactionId));
        Assert.That(m.VerifyMessageIntegrity(ShortTermKey), Is.True);
        Assert.That(m.VerifyFingerprint(), Is.True);
    }

    [Test]
    public void Parse_Rfc5769SampleRequest_ExposesIceAttributes()
    {
        StunMessageReader.TryParse(Rfc5769Vectors.SampleRequest, out StunMessageReader m);

        Assert.That(m.TryGetUsername(out ReadOnlySpan<byte> username), Is.True);
        Assert.That(Encoding.UTF8.GetString(username), Is.EqualTo("evtj:h6vY"));
        Assert.That(m.TryGetPriority(out uint priority), Is.True);
        Assert.That(priority, Is.EqualTo(0x6e0001ffu));
        Assert.That(m.TryGetIceControlled(out ulong tieBreaker), Is.True);
        Assert.That(tieBreaker, Is.EqualTo(0x932ff9b151263b36ul));
        Assert.That(m.TryGetIceControlling(out _), Is.False);
        Assert.That(m.UseCandidate, Is.False);
        Assert.That(m.UnknownComprehensionRequired, Is.EqualTo(0));
    }

    [Test]
    public void Parse_Rfc5769Ipv4Response_DecodesXorMappedAddress()
    {
        Assert.That(StunMessageReader.TryParse(Rfc5769Vectors.SampleIpv4Response, out StunMessageReader m), Is.True);

        Assert.That(m.Class, Is.EqualTo(StunClass.SuccessResponse));
        Assert.That(m.VerifyMessageIntegrity(ShortTermKey), Is.True);
        Assert.That(m.VerifyFingerprint(), Is.True);
        Assert.That(m.TryGetXorMappedAddress(out IPEndPoint? endPoint), Is.True);
        Assert.That(endPoint, Is.EqualTo(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853)));
    }

    [Test]
    public void Parse_Rfc5769Ipv6Response_DecodesXorMappedAddress()
    {
        Assert.That(StunMessageReader.TryParse(Rfc5769Vectors.SampleIpv6Response, out StunMessageReader m), Is.True);

        Assert.That(m.VerifyMessageIntegrity(ShortTermKey), Is.True);
        Assert.That(m.VerifyFingerprint(), Is.True);
        Assert.That(m.TryGetXorMappedAddress(out IPEndPoint? endPoint), Is.True);
        Assert.That(endPoint, Is.EqualTo(new IPEndPoint(IPAddress.Parse("2001:db8:1234:5678:11:2233:4455:6677"), 32853)));
    }

    [Test]
    public void Parse_Rfc5769LongTermRequest_VerifiesWithMd5OfUserRealmPassword()
    {
        Assert.That(StunMessageReader.TryParse(Rfc5769Vectors.SampleLongTermRequest, out StunMessageReader m), Is.True);
        // Long-term key = MD5(username ":" realm ":" SASLprep(password)), RFC 8489 section 9.2.2.
        byte[] key = MD5.HashData(Encoding.UTF8.GetBytes("\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9:example.org:TheMatrIX"));

        Assert.That(m.VerifyMessageIntegrity(key), Is.True);
        Assert.That(m.HasFingerprint, Is.False);
        Assert.That(m.VerifyFingerprint(), Is.False);
    }

    [Test]
    public void VerifyMessageIntegrity_WrongPassword_Fails()
    {
        StunMessageReader.TryParse(Rfc5769Vectors.SampleRequest, out StunMessageReader m);

        Assert.That(m.VerifyMessageIntegrity("VOkJxbRl1RmTxUk/WvJxBu"u8), Is.False);
    }

    [Test]
    public void VerifyMessageIntegrity_TamperedPriority_FailsButStillParses()
    {
        byte[] tampered = (byte[])Rfc5769Vectors.SampleRequest.Clone();
        tampered[20 + 20 + 4] ^= 0x01; // first byte of the PRIORITY value

        Assert.That(StunMessageReader.TryParse(tampered, out StunMessageReader m), Is.True);
        Assert.That(m.VerifyMessageIntegrity(ShortTermKey), Is.False);
        Assert.That(m.VerifyFingerprint(), Is.False);
    }

    [Test]
    public void VerifyFingerprint_TamperedFingerprintOnly_FailsWhileIntegrityHolds()
    {
        byte[] tampered = (byte[])Rfc5769Vectors.SampleRequest.Clone();
        tampered[^1] ^= 0x80;

        StunMessageReader.TryParse(tampered, out StunMessageReader m);
        Assert.That(m.VerifyMessageIntegrity(ShortTermKey), Is.True);
        Assert.That(m.VerifyFingerprint(), Is.False);
    }

    [Test]
    public void TryParse_WrongMagicCookie_ReturnsFalse()
    {
        byte[] bad = (byte[])Rfc5769Vectors.SampleRequest.Clone();
        bad[4] = 0x22;

        Assert.That(StunMessageReader.TryParse(bad, out _), Is.False);
        Assert.That(StunMessageReader.IsStunHeader(bad), Is.False);
    }

    [Test]
    public void TryParse_LeadingBitsSet_ReturnsFalse()
    {
        byte[] bad = (byte[])Rfc5769Vectors.SampleRequest.Clone();
        bad[0] |= 0x80; // an RTP/RTCP first byte

        Assert.That(StunMessageReader.TryParse(bad, out _), Is.False);
    }

    [Test]
    public void TryParse_LengthNotMatchingDatagram_ReturnsFalse()
    {
        byte[] shorter = Rfc5769Vectors.SampleRequest[..^4];
        byte[] longer = [.. Rfc5769Vectors.SampleRequest, 0, 0, 0, 0];

        Assert.That(StunMessageReader.TryParse(shorter, out _), Is.False);
        Assert.That(StunMessageReader.TryParse(longer, out _), Is.False);
    }

    [Test]
    public void TryParse_AttributeAfterFingerprint_ReturnsFalse()
    {
        Span<byte> buffer = stackalloc byte[128];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingRequest, Rfc5769Vectors.TransactionId);
        w.AddFingerprint();
        w.AddPriority(1);

        Assert.That(StunMessageReader.TryParse(w.Written, out _), Is.False);
    }

    [Test]
    public void TryParse_AttributesAfterIntegrity_AreIgnored()
    {
        Span<byte> buffer = stackalloc byte[128];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingRequest, Rfc5769Vectors.TransactionId);
        w.AddMessageIntegrity(ShortTermKey);
        w.AddPriority(7);
        w.AddUseCandidate();

        Assert.That(StunMessageReader.TryParse(w.Written, out StunMessageReader m), Is.True);
        Assert.That(m.VerifyMessageIntegrity(ShortTermKey), Is.True);
        Assert.That(m.TryGetPriority(out _), Is.False);
        Assert.That(m.UseCandidate, Is.False);
    }

    [Test]
    public void TryParse_PriorityOfWrongSize_ReturnsFalse()
    {
        Span<byte> buffer = stackalloc byte[64];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingRequest, Rfc5769Vectors.TransactionId);
        w.AddAttribute((ushort)StunAttributeType.Priority, [1, 2, 3]);

        Assert.That(StunMessageReader.TryParse(w.Written, out _), Is.False);
    }

    [Test]
    public void TryParse_UnknownComprehensionRequiredAttribute_IsReported()
    {
        Span<byte> buffer = stackalloc byte[64];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingRequest, Rfc5769Vectors.TransactionId);
        w.AddAttribute(0xC057, [0, 1, 0, 0]); // comprehension-optional: fine
        w.AddAttribute(0x0031, [1]);

        Assert.That(StunMessageReader.TryParse(w.Written, out StunMessageReader m), Is.True);
        Assert.That(m.UnknownComprehensionRequired, Is.EqualTo(0x0031));
    }

    [Test]
    public void GetAttributes_Rfc5769SampleRequest_YieldsAllInOrder()
    {
        StunMessageReader.TryParse(Rfc5769Vectors.SampleRequest, out StunMessageReader m);
        var types = new List<ushort>();
        var lengths = new List<int>();
        foreach (StunAttribute a in m.GetAttributes())
        {
            types.Add(a.Type);
            lengths.Add(a.Value.Length);
        }

        Assert.That(types, Is.EqualTo(new ushort[] { 0x8022, 0x0024, 0x8029, 0x0006, 0x0008, 0x8028 }));
        Assert.That(lengths, Is.EqualTo(new[] { 16, 4, 8, 9, 20, 4 }));
    }

    [Test]
    public void TryParse_EveryTruncationAndRandomCorruption_NeverThrows()
    {
        var random = new Random(5769);
        byte[][] seeds = [Rfc5769Vectors.SampleRequest, Rfc5769Vectors.SampleIpv4Response, Rfc5769Vectors.SampleIpv6Response, Rfc5769Vectors.SampleLongTermRequest];
        int parsed = 0;
        foreach (byte[] seed in seeds)
        {
            for (int length = 0; length <= seed.Length; length++)
            {
                if (Exercise(seed.AsSpan(0, length)))
                {
                    parsed++;
                }
            }
        }

        byte[] buffer = new byte[160];
        for (int i = 0; i < 20000; i++)
        {
            byte[] seed = seeds[random.Next(seeds.Length)];
            int length = random.Next(Math.Min(seed.Length + 8, buffer.Length));
            seed.AsSpan(0, Math.Min(length, seed.Length)).CopyTo(buffer);
            for (int flips = random.Next(1, 4); flips > 0; flips--)
            {
                buffer[random.Next(Math.Max(length, 1))] = (byte)random.Next(256);
            }

            // Keep the length field consistent half the time, so corruption reaches the attribute walk.
            if (length >= 20 && random.Next(2) == 0)
            {
                buffer[2] = (byte)((length - 20) >> 8);
                buffer[3] = (byte)(length - 20);
            }

            Exercise(buffer.AsSpan(0, length));
            random.NextBytes(buffer.AsSpan(0, length));
            Exercise(buffer.AsSpan(0, length));
        }

        // Only the complete datagrams parse: a truncated STUN message is always rejected.
        Assert.That(parsed, Is.EqualTo(seeds.Length));
    }

    [Test]
    public void ParseVerifyAndRespond_AfterWarmUp_DoNotAllocate()
    {
        byte[] response = new byte[IceStunMessages.MaxMessageLength];
        var source = new System.Net.IPEndPoint(System.Net.IPAddress.Parse("192.0.2.1"), 32853).Serialize();
        int Handle()
        {
            StunMessageReader.TryParse(Rfc5769Vectors.SampleRequest, out StunMessageReader m);
            m.TryGetUsername(out ReadOnlySpan<byte> username);
            IceUsername.TrySplit(username, out _, out _);
            bool ok = m.VerifyFingerprint() && m.VerifyMessageIntegrity(ShortTermKey);
            return ok ? IceStunMessages.WriteBindingSuccess(response, m.TransactionId, source, ShortTermKey) : 0;
        }

        int HandleMany()
        {
            int sum = 0;
            for (int i = 0; i < 1000; i++)
            {
                sum += Handle();
            }

            return sum;
        }

        // Warm up the same compiled loop that is measured, past tiered compilation's promotions (call counting,
        // on-stack replacement), so no JIT work lands inside the measurement.
        for (int i = 0; i < 50; i++)
        {
            HandleMany();
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        int total = HandleMany();

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.EqualTo(0));
        Assert.That(total, Is.GreaterThan(0));
    }

    private static bool Exercise(ReadOnlySpan<byte> datagram)
    {
        if (!StunMessageReader.TryParse(datagram, out StunMessageReader m))
        {
            return false;
        }

        Span<byte> address = stackalloc byte[16];
        m.TryGetUsername(out _);
        m.TryGetPriority(out _);
        m.TryGetIceControlling(out _);
        m.TryGetIceControlled(out _);
        m.TryGetErrorCode(out _, out _);
        m.TryGetXorMappedAddress(address, out _, out _);
        m.VerifyMessageIntegrity(ShortTermKey);
        m.VerifyFingerprint();
        foreach (StunAttribute a in m.GetAttributes())
        {
            _ = a.Value.Length;
        }

        return true;
    }
}
