using System.Buffers.Binary;
using Sfu.Media.Dtls;

namespace Sfu.Fuzz;

/// <summary>
/// Records what a real client sends in a DTLS handshake with the server (two of the project's own transports,
/// client and server role, over memory), as seeds for the dtls target: its first flight (ClientHello) and both of its
/// flights, in the target's multi-datagram format.
/// </summary>
public static class DtlsSeedCapture
{
    public static void WriteTo(string directory)
    {
        using var serverCertificate = DtlsCertificate.Generate();
        using var clientCertificate = DtlsCertificate.Generate();
        using var serverContext = DtlsContext.Create(serverCertificate, DtlsRole.Server);
        using var clientContext = DtlsContext.Create(clientCertificate, DtlsRole.Client);
        var toServer = new Recorder();
        var toClient = new Recorder();
        using var server = new DtlsTransport(serverContext, toClient, clientCertificate.Fingerprint);
        using var client = new DtlsTransport(clientContext, toServer, serverCertificate.Fingerprint);

        server.Start();
        client.Start();
        var firstFlight = toServer.Take();
        firstFlight.ForEach(d => server.Feed(d));
        toClient.Take().ForEach(d => client.Feed(d));
        var secondFlight = toServer.Take();

        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, "client-hello"), Framed(firstFlight));
        File.WriteAllBytes(Path.Combine(directory, "client-both-flights"), Framed([.. firstFlight, .. secondFlight]));
    }

    private static byte[] Framed(List<byte[]> datagrams)
    {
        var output = new MemoryStream();
        Span<byte> length = stackalloc byte[2];
        foreach (var datagram in datagrams)
        {
            BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)datagram.Length);
            output.Write(length);
            output.Write(datagram);
        }

        return output.ToArray();
    }

    private sealed class Recorder : IDtlsPacketSink
    {
        private List<byte[]> _sent = [];

        public void SendDtls(ReadOnlySpan<byte> datagram) => _sent.Add(datagram.ToArray());

        public List<byte[]> Take()
        {
            var sent = _sent;
            _sent = [];
            return sent;
        }
    }
}
