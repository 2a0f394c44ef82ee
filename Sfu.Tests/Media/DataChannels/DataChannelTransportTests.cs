using System.Text;
using Sfu.Media.DataChannels;
using Sfu.Media.Dtls;
using Sfu.Media.Sctp;
using Sfu.Tests.Media.Dtls;

namespace Sfu.Tests.Media.DataChannels;

/// <summary>Data channels end to end over two real DTLS transports (OpenSSL) and two associations, in memory.</summary>
[TestFixture]
public sealed class DataChannelTransportTests
{
    private DtlsCertificate _serverCertificate = null!;
    private DtlsCertificate _clientCertificate = null!;
    private DtlsContext _serverContext = null!;
    private DtlsContext _clientContext = null!;

    [OneTimeSetUp]
    public void CreateContexts()
    {
        _serverCertificate = DtlsCertificate.Generate();
        _clientCertificate = DtlsCertificate.Generate();
        _serverContext = DtlsContext.Create(_serverCertificate, DtlsRole.Server);
        _clientContext = DtlsContext.Create(_clientCertificate, DtlsRole.Client);
    }

    [OneTimeTearDown]
    public void DisposeContexts()
    {
        _serverContext.Dispose();
        _clientContext.Dispose();
        _serverCertificate.Dispose();
        _clientCertificate.Dispose();
    }

    [Test]
    public void Open_PeerSeesTheChannelAndMessagesFlowBothWays()
    {
        using var pair = Connected(out Side server, out Side client);

        DataChannel channel = client.Transport.Open(new DataChannelParameters("chat"))!;
        client.Transport.Send(channel, isString: true, "hello"u8.ToArray());
        pair.Pump();
        DataChannel served = server.Opened.Single();
        server.Transport.Send(served, isString: false, new byte[] { 1, 2, 3 });
        pair.Pump();

        Assert.That(channel.Stream % 2, Is.EqualTo(0), "the DTLS client takes even streams");
        Assert.That(served.Label, Is.EqualTo("chat"));
        Assert.That(served.Parameters, Is.EqualTo(new DataChannelParameters("chat")));
        Assert.That(server.Messages, Is.EqualTo(new[] { ("chat", true, "hello") }));
        Assert.That(client.Messages, Is.EqualTo(new[] { ("chat", false, "\u0001\u0002\u0003") }));
    }

    [Test]
    public void Open_FromTheServerUsesOddStreamsAndCarriesUnreliableParameters()
    {
        using var pair = Connected(out Side server, out Side client);
        var parameters = new DataChannelParameters("lossy", "proto", Ordered: false, MaxRetransmits: 0);

        DataChannel channel = server.Transport.Open(parameters)!;
        pair.Pump();

        Assert.That(channel.Stream % 2, Is.EqualTo(1));
        Assert.That(client.Opened.Single().Parameters, Is.EqualTo(parameters));
        Assert.That(client.Opened.Single().Stream, Is.EqualTo(channel.Stream));
    }

    [Test]
    public void Send_LargeAndEmptyMessagesArriveWhole()
    {
        using var pair = Connected(out Side server, out Side client);
        DataChannel channel = client.Transport.Open(new DataChannelParameters("bulk"))!;
        byte[] large = new byte[150_000];
        new Random(2).NextBytes(large);

        client.Transport.Send(channel, isString: false, large);
        client.Transport.Send(channel, isString: true, ReadOnlyMemory<byte>.Empty);
        for (int i = 0; i < 50 && server.Received.Count < 2; i++)
        {
            pair.Pump();
        }

        Assert.That(server.Received[0], Is.EqualTo(large));
        Assert.That(server.Received[1], Is.Empty);
        Assert.That(pair.ClientSink.AllSent.Max(d => d.Length), Is.LessThanOrEqualTo(DtlsTransport.MaxDatagramSize));
    }

    [Test]
    public void Close_ResetsTheStreamBothWaysAndBothEndsSeeItClosed()
    {
        using var pair = Connected(out Side server, out Side client);
        DataChannel channel = client.Transport.Open(new DataChannelParameters("chat"))!;
        pair.Pump();

        client.Transport.Close(channel);
        pair.Pump();
        pair.Pump();

        Assert.That(server.Closed.Select(c => c.Label), Is.EqualTo(new[] { "chat" }));
        Assert.That(client.Closed.Select(c => c.Label), Is.EqualTo(new[] { "chat" }));
        Assert.That(server.Transport.Channels, Is.Empty);
        Assert.That(client.Transport.Channels, Is.Empty);
        Assert.That(client.Transport.Send(channel, isString: true, "late"u8.ToArray()), Is.EqualTo(SctpSendStatus.Invalid));
    }

    private DtlsTestPair Connected(out Side server, out Side client)
    {
        var pair = new DtlsTestPair(_serverContext, _clientContext);
        pair.Handshake();
        Assert.That(pair.Server.State, Is.EqualTo(DtlsState.Connected));
        server = new Side(pair.Server);
        client = new Side(pair.Client);
        client.Transport.Association.Connect();
        pair.Pump();
        Assert.That(server.Transport.Association.State, Is.EqualTo(SctpAssociationState.Established));
        Assert.That(client.Transport.Association.State, Is.EqualTo(SctpAssociationState.Established));
        Assert.That((server.Established, client.Established), Is.EqualTo((1, 1)), "each side is told once that it may open channels");
        return pair;
    }

    private sealed class Side : IDataChannelListener
    {
        public Side(DtlsTransport dtls) => Transport = new DataChannelTransport(dtls, new SctpAssociationOptions(), this);

        public DataChannelTransport Transport { get; }

        public List<DataChannel> Opened { get; } = [];

        public int Established { get; private set; }

        public List<DataChannel> Closed { get; } = [];

        public List<(string Label, bool IsString, string Text)> Messages { get; } = [];

        public List<byte[]> Received { get; } = [];

        public void OnDataChannelsEstablished(DataChannelTransport transport) => Established++;

        public void OnDataChannelOpened(DataChannel channel) => Opened.Add(channel);

        public void OnDataChannelMessage(DataChannel channel, bool isString, ReadOnlySpan<byte> payload)
        {
            Messages.Add((channel.Label, isString, Encoding.UTF8.GetString(payload)));
            Received.Add(payload.ToArray());
        }

        public void OnDataChannelClosed(DataChannel channel) => Closed.Add(channel);
    }
}
