using System.Net.Sockets;
using System.Text;
using Sfu.Media.DataChannels;
using Sfu.Media.Dtls;
using Sfu.Media.Sctp;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.DataChannels;

/// <summary>A client's data channels over its own DTLS endpoint, driven by the test's pump only.</summary>
internal sealed class DataChannelTestClient : IDataChannelListener
{
    public DataChannelTestClient(DtlsTransport dtls) => Channels = new DataChannelTransport(dtls, new SctpAssociationOptions(), this);

    public DataChannelTransport Channels { get; }

    public bool Established { get; private set; }

    public List<DataChannel> Opened { get; } = [];

    public List<DataChannel> Closed { get; } = [];

    /// <summary>Text messages received, by channel label.</summary>
    public Dictionary<string, List<string>> Received { get; } = [];

    public void OnDataChannelsEstablished(DataChannelTransport transport) => Established = true;

    public void OnDataChannelOpened(DataChannel channel) => Opened.Add(channel);

    public void OnDataChannelMessage(DataChannel channel, bool isString, ReadOnlySpan<byte> payload)
    {
        if (!Received.TryGetValue(channel.Label, out var messages)) Received[channel.Label] = messages = [];
        messages.Add(Encoding.UTF8.GetString(payload));
    }

    public void OnDataChannelClosed(DataChannel channel) => Closed.Add(channel);
}

/// <summary>Feeds datagrams from the server to a client's DTLS and runs the client's timers, one step at a time.</summary>
internal sealed class DataChannelTestLink(UdpClient socket, DtlsTransport dtls, DataChannelTransport channels)
{
    private Task<UdpReceiveResult>? _pending;

    public async Task PumpUntilAsync(Func<bool> done, string what, TimeSpan? limit = null)
    {
        var deadline = DateTimeOffset.UtcNow + (limit ?? TimeSpan.FromSeconds(10));
        while (!done())
        {
            Assert.That(DateTimeOffset.UtcNow, Is.LessThan(deadline), $"timed out waiting until {what}");
            await PumpOnceAsync();
        }
    }

    public async Task PumpOnceAsync()
    {
        _pending ??= socket.ReceiveAsync();
        if (await Task.WhenAny(_pending, Task.Delay(10)) == _pending)
        {
            var datagram = await _pending;
            _pending = null;
            dtls.Feed(datagram.Buffer);
        }
        if (dtls.NextTimeout <= DateTimeOffset.UtcNow) dtls.HandleTimeout();
        if (channels.Association.NextTimeout <= DateTimeOffset.UtcNow) channels.Association.HandleTimeout();
    }
}

/// <summary>
/// A raw client's side of one server transport: an authenticated ICE check from its own socket, then DTLS (client
/// role) and SCTP, which it opens too, so INITs cross as with a browser.
/// </summary>
internal sealed class DataChannelTestPeer : IDisposable
{
    private readonly UdpClient _socket;
    private readonly DtlsTransport _dtls;

    private DataChannelTestPeer(UdpClient socket, DtlsTransport dtls)
    {
        _socket = socket;
        _dtls = dtls;
        Client = new DataChannelTestClient(dtls);
        Link = new DataChannelTestLink(socket, dtls, Client.Channels);
    }

    public DataChannelTestClient Client { get; }

    public DataChannelTestLink Link { get; }

    public DataChannelTransport Channels => Client.Channels;

    public DtlsState DtlsState => _dtls.State;

    /// <summary>The client's DTLS context: its fingerprint goes into the client's SDP.</summary>
    public static DtlsContext Context => Sfu.Client.Transport.ClientDtls.Context(Sfu.Client.Transport.ClientDtls.DefaultSrtpProfiles);

    /// <summary>Publishes Chromium's data channel offer (with this client's fingerprint) and connects to the answer's transport.</summary>
    public static async Task<DataChannelTestPeer> PublishAsync(TestClient signaling)
    {
        var offer = System.Text.RegularExpressions.Regex.Replace(
            Sdp.SdpFixtures.Load(Sdp.SdpFixtures.ChromeRecvOnly), "a=fingerprint:[^\r\n]+", $"a=fingerprint:{Context.Certificate.Fingerprint}");
        var response = await signaling.RequestAsync(new { type = "publish", sdp = offer });
        Assert.That(response.Ok(), Is.True, response.ToString());
        return await ConnectAsync(Sfu.Media.Sdp.SdpParser.Parse(response.Str("sdp")));
    }

    /// <summary>Connects to the transport that <paramref name="server"/>'s data section describes, up to an established association.</summary>
    public static async Task<DataChannelTestPeer> ConnectAsync(Sfu.Media.Sdp.SessionDescription server)
    {
        var data = server.Media.Single(m => m.Kind == "application" && !m.IsRejected);
        var endPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Parse(data.Candidates[0].Address), data.Candidates[0].Port);
        var socket = new UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        await socket.SendAsync(Integration.MalformedDatagramTests.Check(server.IceUfragFor(data)!, server.IcePwdFor(data)!), endPoint);
        await socket.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(5));
        var dtls = new DtlsTransport(Context, new Integration.MalformedDatagramTests.UdpSink(socket, endPoint), server.FingerprintFor(data));
        var peer = new DataChannelTestPeer(socket, dtls);
        dtls.Start();
        await peer.Link.PumpUntilAsync(() => dtls.State == DtlsState.Connected, "DTLS connects");
        peer.Channels.Association.Connect();
        await peer.Link.PumpUntilAsync(() => peer.Client.Established, "the association is established");
        return peer;
    }

    public void Dispose()
    {
        _dtls.Dispose();
        _socket.Dispose();
    }
}
