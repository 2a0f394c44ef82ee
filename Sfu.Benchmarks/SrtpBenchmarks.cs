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
/// Receiving side: each call copies the next of <see cref="Count"/> pre-protected packets (the
/// replay window rejects a packet seen before) into the work buffer and unprotects it. The
/// ~1.2 KB copy is part of the time. A fresh receiver is made before each iteration.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(Count)]
public class SrtpUnprotectBenchmarks : SrtpBenchmarkBase
{
    private const int Count = 4096;

    private byte[][] _protected = [];
    private int _protectedLength;
    private byte[] _buffer = new byte[PacketLength + 64];
    private int _next;
    private SrtpContext? _ours;
    private LibSrtpSession? _libsrtp;

    [GlobalSetup]
    public void Setup()
    {
        CreateKeys();
        using var sender = new SrtpContext(Profile, Key, Salt);
        _protected = new byte[Count][];
        for (int i = 0; i < Count; i++)
        {
            byte[] packet = PlainPacket((ushort)i);
            sender.Protect(packet, PacketLength, out _protectedLength);
            _protected[i] = packet;
        }
    }

    [IterationSetup(Target = nameof(Ours))]
    public void NewOurs()
    {
        _ours?.Dispose();
        _ours = new SrtpContext(Profile, Key, Salt);
        _next = 0;
    }

    [IterationSetup(Target = nameof(Libsrtp))]
    public void NewLibsrtp()
    {
        _libsrtp?.Dispose();
        _libsrtp = LibSrtpSession.Create(Profile, Key, Salt, outbound: false);
        _next = 0;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ours?.Dispose();
        _libsrtp?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public SrtpStatus Ours()
    {
        _protected[_next++].AsSpan(0, _protectedLength).CopyTo(_buffer);
        return _ours!.Unprotect(_buffer, _protectedLength, out _);
    }

    [Benchmark]
    public int Libsrtp()
    {
        _protected[_next++].AsSpan(0, _protectedLength).CopyTo(_buffer);
        int length = _protectedLength;
        return (int)_libsrtp!.Unprotect(_buffer, ref length);
    }
}
