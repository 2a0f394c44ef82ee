using Sfu.Media.Dtls;

namespace Sfu.Tests.Media.Dtls;

/// <summary>Collects what a transport sends, for a test to deliver (or drop) by hand.</summary>
internal sealed class RecordingSink : IDtlsPacketSink
{
    public Queue<byte[]> Outbox { get; } = new();

    public List<byte[]> AllSent { get; } = [];

    public void SendDtls(ReadOnlySpan<byte> datagram)
    {
        byte[] copy = datagram.ToArray();
        Outbox.Enqueue(copy);
        AllSent.Add(copy);
    }
}

/// <summary>
/// A server-role and a client-role transport wired through in-memory sinks. Certificates and
/// contexts are made once per fixture class run (key generation is the slow part).
/// </summary>
internal sealed class DtlsTestPair : IDisposable
{
    public DtlsTestPair(
        DtlsContext serverContext,
        DtlsContext clientContext,
        bool serverKnowsFingerprint = true,
        bool clientKnowsFingerprint = true)
    {
        Server = new DtlsTransport(
            serverContext,
            ServerSink,
            serverKnowsFingerprint ? clientContext.Certificate.Fingerprint : null);
        Client = new DtlsTransport(
            clientContext,
            ClientSink,
            clientKnowsFingerprint ? serverContext.Certificate.Fingerprint : null);
    }

    public DtlsTransport Server { get; }

    public DtlsTransport Client { get; }

    public RecordingSink ServerSink { get; } = new();

    public RecordingSink ClientSink { get; } = new();

    /// <summary>
    /// Delivers queued datagrams both ways until both outboxes are empty.
    /// <paramref name="dropFromServer"/> sees each server datagram with its running index.
    /// </summary>
    public void Pump(Func<int, byte[], bool>? dropFromServer = null)
    {
        int fromServer = 0;
        for (int round = 0; round < 100 && (ServerSink.Outbox.Count > 0 || ClientSink.Outbox.Count > 0); round++)
        {
            while (ClientSink.Outbox.TryDequeue(out byte[]? datagram))
            {
                Server.Feed(datagram);
            }

            while (ServerSink.Outbox.TryDequeue(out byte[]? datagram))
            {
                if (dropFromServer?.Invoke(fromServer++, datagram) != true)
                {
                    Client.Feed(datagram);
                }
            }
        }
    }

    public void Handshake()
    {
        Server.Start();
        Client.Start();
        Pump();
    }

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
    }
}
