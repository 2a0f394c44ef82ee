using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using Sfu.Media.Srtp;
using Sfu.Tests.Interop.LibSrtp;

namespace Sfu.Benchmarks;

/// <summary>Shared packet and keys: one 1200-byte RTP packet (12-byte header, 1188-byte payload).</summary>
public abstract class SrtpBenchmarkBase
{
    protected const int PacketLength = 1200;
    protected const uint Ssrc = 0x1234_5678;

    [Params(SrtpProfile.Aes128CmHmacSha1_80, SrtpProfile.AeadAes128Gcm)]
    public SrtpProfile Profile { get; set; }

    protected byte[] Key = [];
    protected byte[] Salt = [];

    protected void CreateKeys()
    {
        var random = new Random(42);
        Key = new byte[Profile.KeyLength()];
        Salt = new byte[Profile.SaltLength()];
        random.NextBytes(Key);
        random.NextBytes(Salt);
    }

    protected static byte[] PlainPacket(ushort sequence)
    {
        var packet = new byte[PacketLength + 64];
        new Random(sequence).NextBytes(packet.AsSpan(12, PacketLength - 12));
        packet[0] = 0x80;
        packet[1] = 96;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), sequence);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), Ssrc);
        return packet;
    }
}

/// <summary>Sending side: each call protects the next sequence number in place.</summary>
[MemoryDiagnoser]
public class SrtpProtectBenchmarks : SrtpBenchmarkBase
{
    private SrtpContext _ours = null!;
    private LibSrtpSession _libsrtp = null!;
    private byte[] _buffer = [];
    private ushort _sequence;

    [GlobalSetup]
    public void Setup()
    {
        CreateKeys();
        _ours = new SrtpContext(Profile, Key, Salt);
        _libsrtp = LibSrtpSession.Create(Profile, Key, Salt, outbound: true);
        _buffer = PlainPacket(0);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ours.Dispose();
        _libsrtp.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int Ours()
    {
        // The payload is whatever the last call left; encryption cost does not depend on it.
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(2), ++_sequence);
        _ours.Protect(_buffer, PacketLength, out int length);
        return length;
    }

    [Benchmark]
    public int Libsrtp()
    {
        // libsrtp refuses to protect an index twice, so it also gets a new sequence number each call.
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(2), ++_sequence);
        int length = PacketLength;
        _libsrtp.Protect(_buffer, ref length);
        return length;
    }
}

/// <summary>
/// Receiving side, timed as a round trip: protect the next sequence number, then unprotect it
/// with a receiver under the same key (the replay window refuses a packet seen before, so each
/// call needs a new one). Unprotect alone is this minus <see cref="SrtpProtectBenchmarks"/>.
/// Everything stays in one cache-warm buffer.
/// </summary>
[MemoryDiagnoser]
public class SrtpRoundTripBenchmarks : SrtpBenchmarkBase
{
    private SrtpContext _ourSender = null!;
    private SrtpContext _ourReceiver = null!;
    private LibSrtpSession _libsrtpSender = null!;
    private LibSrtpSession _libsrtpReceiver = null!;
    private byte[] _buffer = [];
    private ushort _sequence;

    [GlobalSetup]
    public void Setup()
    {
        CreateKeys();
        _ourSender = new SrtpContext(Profile, Key, Salt);
        _ourReceiver = new SrtpContext(Profile, Key, Salt);
        _libsrtpSender = LibSrtpSession.Create(Profile, Key, Salt, outbound: true);
        _libsrtpReceiver = LibSrtpSession.Create(Profile, Key, Salt, outbound: false);
        _buffer = PlainPacket(0);

        // A failing unprotect is cheaper than a passing one; make sure both time the real path.
        if (Ours() != SrtpStatus.Ok || Libsrtp() != 0)
        {
            throw new InvalidOperationException("Round trip did not authenticate.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ourSender.Dispose();
        _ourReceiver.Dispose();
        _libsrtpSender.Dispose();
        _libsrtpReceiver.Dispose();
    }

    [Benchmark(Baseline = true)]
    public SrtpStatus Ours()
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(2), ++_sequence);
        _ourSender.Protect(_buffer, PacketLength, out int length);
        return _ourReceiver.Unprotect(_buffer, length, out _);
    }

    [Benchmark]
    public int Libsrtp()
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(2), ++_sequence);
        int length = PacketLength;
        _libsrtpSender.Protect(_buffer, ref length);
        return (int)_libsrtpReceiver.Unprotect(_buffer, ref length);
    }
}

/// <summary>
/// The lock every <see cref="SrtpContext"/> call takes, alone and uncontended, as on the server (see the context's
/// remarks for why it exists): its share of the per-packet figures of the classes above.
/// </summary>
public class SrtpContextLockBenchmarks
{
    private readonly Lock _gate = new();
    private long _calls;

    [Benchmark]
    public long UncontendedLock()
    {
        lock (_gate)
        {
            return ++_calls;
        }
    }
}
