using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Sfu.Client.Transport;
using Sfu.Media.DataChannels;
using Sfu.Media.Dtls;
using Sfu.Media.Sctp;
using Sfu.Media.Sdp;
using Sfu.Tests.Infrastructure;
using Sfu.Tests.Media.Integration;
using Sfu.Tests.Media.Sdp;

namespace Sfu.Tests.Media.DataChannels;

/// <summary>
/// A client with Chromium's data channel offer against the real server: ICE check, DTLS, then SCTP over it from both
/// ends at once (crossing INITs), a DCEP OPEN the server acknowledges, and messages the server counts.
/// </summary>
public sealed class PublishDataChannelTests : ServerTest
{
    [Test]
    public async Task ChannelOpenedOnThePublishTransport_IsAcknowledged_AndItsMessagesAreCounted()
    {
        var (publisher, _) = await Server.JoinAsync("r");
        await using var _ = publisher;
        var clientContext = ClientDtls.Context(ClientDtls.DefaultSrtpProfiles);
        var offer = Regex.Replace(SdpFixtures.Load(SdpFixtures.ChromeRecvOnly), "a=fingerprint:[^\r\n]+", $"a=fingerprint:{clientContext.Certificate.Fingerprint}");
        var response = await publisher.RequestAsync(new { type = "publish", sdp = offer });
        Assert.That(response.Ok(), Is.True, response.ToString());
        var answer = SdpParser.Parse(response.Str("sdp"));
        var data = answer.Media.Single(m => m.Kind == "application");
        Assert.That(data.IsRejected, Is.False);
        var server = new IPEndPoint(IPAddress.Parse(data.Candidates[0].Address), data.Candidates[0].Port);

        using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await socket.SendAsync(MalformedDatagramTests.Check(answer.IceUfragFor(data)!, answer.IcePwdFor(data)!), server);
        await socket.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));

        using var dtls = new DtlsTransport(clientContext, new MalformedDatagramTests.UdpSink(socket, server), answer.FingerprintFor(data));
        var client = new Client(dtls);
        var link = new Link(socket, dtls, client.Channels);
        dtls.Start();
        await link.PumpUntilAsync(() => dtls.State == DtlsState.Connected, "DTLS connects");
        client.Channels.Association.Connect();
        await link.PumpUntilAsync(() => client.Established, "the association is established");

        var channel = client.Channels.Open(new DataChannelParameters("chat"))!;
        const int count = 200;
        long bytes = 0;
        for (var i = 0; i < count; i++)
        {
            var payload = Encoding.UTF8.GetBytes($"message {i}");
            bytes += payload.Length;
            Assert.That(client.Channels.Send(channel, isString: true, payload), Is.EqualTo(SctpSendStatus.Queued));
        }
        await link.PumpUntilAsync(() => channel.Acknowledged && client.Channels.Association.BufferedAmount == 0, "the OPEN is acknowledged and every message acked");

        await Eventually.MetricReachesAsync(Server, "sfu_media_datachannel_messages_total{direction=\"received\"}", count + 1);
        var metrics = await MetricsSnapshot.ScrapeAsync(Server);
        Assert.Multiple(() =>
        {
            Assert.That(metrics["sfu_media_datachannel_messages_total{direction=\"received\"}"], Is.EqualTo(count + 1), "the OPEN and every message, once");
            Assert.That(metrics["sfu_media_datachannel_bytes_total{direction=\"received\"}"], Is.EqualTo(bytes + channel.Parameters.EncodedLength));
            Assert.That(metrics["sfu_media_datachannel_messages_total{direction=\"sent\"}"], Is.EqualTo(1), "the ACK");
            Assert.That(metrics["sfu_media_sctp_associations_established_total"], Is.EqualTo(1), "crossing INITs make one association");
            Assert.That(metrics["sfu_media_datachannel_dropped_total{reason=\"unknown-channel\"}"], Is.EqualTo(0));
            Assert.That(client.Channels.Association.State, Is.EqualTo(SctpAssociationState.Established));
        });
    }

    /// <summary>The client's data channels, driven by the test's pump only.</summary>
    private sealed class Client : IDataChannelListener
    {
        public Client(DtlsTransport dtls) => Channels = new DataChannelTransport(dtls, new SctpAssociationOptions(), this);

        public DataChannelTransport Channels { get; }

        public bool Established { get; private set; }

        public void OnDataChannelsEstablished(DataChannelTransport transport) => Established = true;

        public void OnDataChannelOpened(DataChannel channel) { }

        public void OnDataChannelMessage(DataChannel channel, bool isString, ReadOnlySpan<byte> payload) { }

        public void OnDataChannelClosed(DataChannel channel) { }
    }

    /// <summary>Feeds datagrams from the server to the client's DTLS and runs the client's timers, one step at a time.</summary>
    private sealed class Link(UdpClient socket, DtlsTransport dtls, DataChannelTransport channels)
    {
        private Task<UdpReceiveResult>? _pending;

        public async Task PumpUntilAsync(Func<bool> done, string what)
        {
            var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(10);
            while (!done())
            {
                Assert.That(DateTimeOffset.UtcNow, Is.LessThan(deadline), $"timed out waiting until {what}");
                _pending ??= socket.ReceiveAsync();
                if (await Task.WhenAny(_pending, Task.Delay(20)) == _pending)
                {
                    var datagram = await _pending;
                    _pending = null;
                    dtls.Feed(datagram.Buffer);
                }
                if (dtls.NextTimeout <= DateTimeOffset.UtcNow) dtls.HandleTimeout();
                if (channels.Association.NextTimeout <= DateTimeOffset.UtcNow) channels.Association.HandleTimeout();
            }
        }
    }
}
