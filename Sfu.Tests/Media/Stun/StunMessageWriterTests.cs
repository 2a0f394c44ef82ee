using System.Net;
using System.Net.Sockets;
using System.Text;
using Sfu.Media.Stun;

namespace Sfu.Tests.Media.Stun;

public class StunMessageWriterTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes(Rfc5769Vectors.ShortTermPassword);

    [Test]
    public void Write_SameAttributesAsRfc5769Ipv4Response_ProducesIdenticalBytes()
    {
        Span<byte> buffer = stackalloc byte[128];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingSuccessResponse, Rfc5769Vectors.TransactionId);
        // The RFC pads SOFTWARE with a space instead of zero; write that byte as part of the value to match.
        w.AddAttribute((ushort)StunAttributeType.Software, "test vector"u8);
        buffer[20 + 4 + 11] = 0x20;
        w.AddXorMappedAddress(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853));
        w.AddMessageIntegrity(Key);
        w.AddFingerprint();

        Assert.That(w.Written.ToArray(), Is.EqualTo(Rfc5769Vectors.SampleIpv4Response));
    }

    [Test]
    public void Write_SameAttributesAsRfc5769Ipv6Response_ProducesIdenticalBytes()
    {
        Span<byte> buffer = stackalloc byte[128];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingSuccessResponse, Rfc5769Vectors.TransactionId);
        w.AddAttribute((ushort)StunAttributeType.Software, "test vector"u8);
        buffer[20 + 4 + 11] = 0x20;
        w.AddXorMappedAddress(new IPEndPoint(IPAddress.Parse("2001:db8:1234:5678:11:2233:4455:6677"), 32853));
        w.AddMessageIntegrity(Key);
        w.AddFingerprint();

        Assert.That(w.Written.ToArray(), Is.EqualTo(Rfc5769Vectors.SampleIpv6Response));
    }

    [Test]
    public void WriteBindingRequest_RoundTrip_ReaderSeesEveryIceAttribute()
    {
        byte[] tid = new byte[12];
        StunMessageWriter.NewTransactionId(tid);
        byte[] buffer = new byte[IceStunMessages.MaxMessageLength];

        int length = IceStunMessages.WriteBindingRequest(buffer, tid, "srvr:clnt"u8, 0x7E7F00FF, 0x0102030405060708, useCandidate: true, Key);

        Assert.That(length, Is.GreaterThan(0));
        Assert.That(StunMessageReader.TryParse(buffer.AsSpan(0, length), out StunMessageReader m), Is.True);
        Assert.That(m.MessageType, Is.EqualTo(StunMessageType.BindingRequest));
        Assert.That(m.TransactionId.ToArray(), Is.EqualTo(tid));
        Assert.That(m.TryGetUsername(out ReadOnlySpan<byte> username) && username.SequenceEqual("srvr:clnt"u8), Is.True);
        Assert.That(m.TryGetPriority(out uint priority) ? priority : 0, Is.EqualTo(0x7E7F00FFu));
        Assert.That(m.TryGetIceControlling(out ulong tie) ? tie : 0, Is.EqualTo(0x0102030405060708ul));
        Assert.That(m.UseCandidate, Is.True);
        Assert.That(m.VerifyMessageIntegrity(Key), Is.True);
        Assert.That(m.VerifyFingerprint(), Is.True);
    }

    [Test]
    public void WriteBindingRequest_WithoutUseCandidate_OmitsIt()
    {
        byte[] buffer = new byte[IceStunMessages.MaxMessageLength];
        int length = IceStunMessages.WriteBindingRequest(buffer, new byte[12], "a:b"u8, 1, 2, useCandidate: false, Key);

        StunMessageReader.TryParse(buffer.AsSpan(0, length), out StunMessageReader m);
        Assert.That(m.UseCandidate, Is.False);
    }

    [TestCase("10.1.2.3", 50000)]
    [TestCase("2001:db8::abcd", 1)]
    [TestCase("255.255.255.255", 65535)]
    public void WriteBindingSuccess_FromSocketAddress_RoundTripsMappedAddress(string ip, int port)
    {
        var source = new IPEndPoint(IPAddress.Parse(ip), port);
        SocketAddress socketAddress = source.Serialize();
        byte[] tid = new byte[12];
        StunMessageWriter.NewTransactionId(tid);
        byte[] buffer = new byte[IceStunMessages.MaxMessageLength];

        int length = IceStunMessages.WriteBindingSuccess(buffer, tid, socketAddress, Key);

        Assert.That(StunMessageReader.TryParse(buffer.AsSpan(0, length), out StunMessageReader m), Is.True);
        Assert.That(m.Class, Is.EqualTo(StunClass.SuccessResponse));
        Assert.That(m.TryGetXorMappedAddress(out IPEndPoint? mapped), Is.True);
        Assert.That(mapped, Is.EqualTo(source));
        Assert.That(m.VerifyMessageIntegrity(Key), Is.True);
        Assert.That(m.VerifyFingerprint(), Is.True);
    }

    [Test]
    public void WriteBindingSuccess_FromIpEndPoint_MatchesSocketAddressVersion()
    {
        var source = new IPEndPoint(IPAddress.Parse("198.51.100.7"), 40000);
        byte[] a = new byte[128];
        byte[] b = new byte[128];

        int la = IceStunMessages.WriteBindingSuccess(a, Rfc5769Vectors.TransactionId, source, Key);
        int lb = IceStunMessages.WriteBindingSuccess(b, Rfc5769Vectors.TransactionId, source.Serialize(), Key);

        Assert.That(a[..la], Is.EqualTo(b[..lb]));
    }

    [TestCase(StunErrorCodes.BadRequest, "Bad Request")]
    [TestCase(StunErrorCodes.Unauthorized, "Unauthorized")]
    [TestCase(StunErrorCodes.RoleConflict, "Role Conflict")]
    public void WriteBindingError_RoundTrip_CarriesCodeAndReason(int code, string reason)
    {
        byte[] buffer = new byte[128];
        int length = IceStunMessages.WriteBindingError(buffer, Rfc5769Vectors.TransactionId, code, default);

        Assert.That(StunMessageReader.TryParse(buffer.AsSpan(0, length), out StunMessageReader m), Is.True);
        Assert.That(m.MessageType, Is.EqualTo(StunMessageType.BindingErrorResponse));
        Assert.That(m.TryGetErrorCode(out int readCode, out ReadOnlySpan<byte> readReason), Is.True);
        Assert.That(readCode, Is.EqualTo(code));
        Assert.That(Encoding.UTF8.GetString(readReason), Is.EqualTo(reason));
        Assert.That(m.HasMessageIntegrity, Is.False);
        Assert.That(m.VerifyFingerprint(), Is.True);
    }

    [Test]
    public void WriteBindingError_WithKey_IsAuthenticated()
    {
        byte[] buffer = new byte[128];
        int length = IceStunMessages.WriteBindingError(buffer, Rfc5769Vectors.TransactionId, StunErrorCodes.RoleConflict, Key);

        StunMessageReader.TryParse(buffer.AsSpan(0, length), out StunMessageReader m);
        Assert.That(m.VerifyMessageIntegrity(Key), Is.True);
    }

    [Test]
    public void Add_BufferTooSmall_ReturnsFalseAndLeavesMessageValid()
    {
        Span<byte> buffer = stackalloc byte[40];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingRequest, Rfc5769Vectors.TransactionId);

        Assert.That(w.AddPriority(1), Is.True);
        Assert.That(w.AddMessageIntegrity(Key), Is.False);
        Assert.That(w.Length, Is.EqualTo(28));
        Assert.That(StunMessageReader.TryParse(w.Written, out _), Is.True);
    }

    [Test]
    public void AddUsername_OddLength_PadsWithZeros()
    {
        Span<byte> buffer = stackalloc byte[64];
        buffer.Fill(0xFF);
        var w = new StunMessageWriter(buffer, StunMessageType.BindingRequest, Rfc5769Vectors.TransactionId);
        w.AddUsername("abcde"u8);

        Assert.That(w.Length, Is.EqualTo(20 + 4 + 8));
        Assert.That(buffer.Slice(29, 3).ToArray(), Is.EqualTo(new byte[3]));
        Assert.That(buffer[3], Is.EqualTo(12));
    }

    [Test]
    public void MessageType_ComposeAndSplit_AreInverse()
    {
        Assert.That(StunMessageType.Compose(StunMethod.Binding, StunClass.ErrorResponse), Is.EqualTo(StunMessageType.BindingErrorResponse));
        Assert.That(StunMessageType.Compose(StunMethod.Binding, StunClass.Indication), Is.EqualTo(StunMessageType.BindingIndication));
        Assert.That(StunMessageType.GetClass(0x0111), Is.EqualTo(StunClass.ErrorResponse));
        Assert.That(StunMessageType.GetMethod(0x0111), Is.EqualTo(StunMethod.Binding));
        // Allocate (0x003) success response is 0x0103: a method with bits above 0xF.
        Assert.That(StunMessageType.Compose((StunMethod)0x00B, StunClass.SuccessResponse), Is.EqualTo((ushort)0x010B));
        Assert.That(StunMessageType.GetMethod(StunMessageType.Compose((StunMethod)0xABC, StunClass.Indication)), Is.EqualTo((StunMethod)0xABC));
    }

    [Test]
    public void AddXorMappedAddress_UnsupportedFamily_ReturnsFalse()
    {
        Span<byte> buffer = stackalloc byte[64];
        var w = new StunMessageWriter(buffer, StunMessageType.BindingSuccessResponse, Rfc5769Vectors.TransactionId);

        Assert.That(w.AddXorMappedAddress(new SocketAddress(AddressFamily.Unix, 16)), Is.False);
        Assert.That(w.Length, Is.EqualTo(20));
    }
}
