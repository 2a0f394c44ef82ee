using System.Net;
using Sfu.Client.Signaling;
using Sfu.Client.Transport.Turn;
using Sfu.Media.Stun;

namespace Sfu.Tests.Client;

/// <summary>TURN's TCP framing and ChannelData (RFC 8656 sections 12.4 and 12.5), and reading TURN URLs (RFC 7065).</summary>
public sealed class TurnFramingTests
{
    [Test]
    public void ChannelData_OnAStream_IsPaddedToFourBytes_AndReadsBackWithoutThePadding()
    {
        var frame = new byte[16];
        var length = TurnFraming.WriteChannelData(frame, 0x4001, "abcde"u8, pad: true);
        Assert.Multiple(() =>
        {
            Assert.That(length, Is.EqualTo(12));
            Assert.That(frame[..12], Is.EqualTo(new byte[] { 0x40, 0x01, 0, 5, (byte)'a', (byte)'b', (byte)'c', (byte)'d', (byte)'e', 0, 0, 0 }));
            Assert.That(TurnFraming.WriteChannelData(frame, 0x4001, "abcde"u8, pad: false), Is.EqualTo(9), "a datagram is not padded");
            Assert.That(TurnFraming.TryReadChannelData(frame.AsSpan(0, 12), out var channel, out var dataLength), Is.True);
            Assert.That((channel, dataLength), Is.EqualTo(((ushort)0x4001, 5)));
            Assert.That(TurnFraming.TryReadChannelData(frame.AsSpan(0, 8), out _, out _), Is.False, "declares more than it holds");
            Assert.That(TurnFraming.WriteChannelData(frame.AsSpan(0, 8), 0x4001, "abcde"u8, pad: true), Is.Zero, "no room");
        });
    }

    [Test]
    public void AStream_CutsIntoStunAndChannelData_WhateverTheReadBoundaries()
    {
        Span<byte> stun = stackalloc byte[64];
        var writer = new StunMessageWriter(stun, StunMessageType.Compose(StunMethod.Refresh, StunClass.SuccessResponse), new byte[12]);
        writer.AddUInt32(StunAttributeType.Lifetime, 600);
        writer.AddFingerprint();
        var message = writer.Written.ToArray();
        var data = new byte[12];
        TurnFraming.WriteChannelData(data, 0x4000, "hello"u8, pad: true);
        byte[] stream = [.. data, .. message, .. data];

        Assert.Multiple(() =>
        {
            Assert.That(TurnFraming.FrameLength(stream), Is.EqualTo(12), "ChannelData: header, data, padding");
            Assert.That(TurnFraming.FrameLength(stream.AsSpan(12)), Is.EqualTo(message.Length), "STUN: header and its length");
            Assert.That(TurnFraming.FrameLength(stream.AsSpan(12, message.Length - 1)), Is.Zero, "a partial STUN message waits for more");
            Assert.That(TurnFraming.FrameLength(stream.AsSpan(0, 3)), Is.Zero, "so does a partial header");
            Assert.That(TurnFraming.FrameLength(stream.AsSpan(0, 9)), Is.Zero, "and ChannelData without its padding");
            Assert.That(TurnFraming.FrameLength([0x80, 0, 0, 4, 0, 0, 0, 0]), Is.EqualTo(-1), "RTP-like bytes frame nothing");
            Assert.That(TurnFraming.FrameLength([0x01, 0x01, 0, 3, 0x21, 0x12, 0xA4, 0x42]), Is.EqualTo(-1), "a STUN length that is not a multiple of four");
        });
    }

    [TestCase("turn:192.0.2.7:3479?transport=tcp", "192.0.2.7", 3479, TurnTransport.Tcp)]
    [TestCase("turn:192.0.2.7", "192.0.2.7", 3478, TurnTransport.Udp)]
    [TestCase("turn:[2001:db8::1]:5000?transport=udp", "2001:db8::1", 5000, TurnTransport.Udp)]
    public void TurnUrls_Parse(string url, string host, int port, TurnTransport transport)
    {
        Assert.That(TurnRelayOptions.TryParseUrl(url, out var h, out var p, out var t), Is.True);
        Assert.That((h, p, t), Is.EqualTo((host, port, transport)));
    }

    [TestCase("turns:turn.example.org:443?transport=tcp")]
    [TestCase("stun:192.0.2.7:3478")]
    [TestCase("turn:192.0.2.7:0")]
    [TestCase("turn:192.0.2.7:3478?transport=sctp")]
    public void OtherUrls_AreNotTurnForThisClient(string url) =>
        Assert.That(TurnRelayOptions.TryParseUrl(url, out _, out _, out _), Is.False);

    [Test]
    public void FromIceServers_TakesTheFirstUrlOfTheWantedTransport_WithItsCredentials()
    {
        IceServer[] servers =
        [
            new(["turn:192.0.2.1:3478"], null, null),
            new(["turns:turn.example.org:443?transport=tcp", "turn:192.0.2.7:3478", "turn:192.0.2.7:3478?transport=tcp"], "1700000000:ada", "c3VwZXI="),
        ];
        Assert.Multiple(() =>
        {
            Assert.That(TurnRelayOptions.FromIceServers(servers, TurnTransport.Tcp),
                Is.EqualTo(new TurnRelayOptions(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 3478), "1700000000:ada", "c3VwZXI=", TurnTransport.Tcp)));
            Assert.That(TurnRelayOptions.FromIceServers(servers, TurnTransport.Udp)!.Server.Address, Is.EqualTo(IPAddress.Parse("192.0.2.7")),
                "the server without credentials is skipped");
            Assert.That(TurnRelayOptions.FromIceServers([], TurnTransport.Udp), Is.Null);
        });
    }
}
