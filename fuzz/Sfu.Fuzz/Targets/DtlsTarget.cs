using Sfu.Media.Dtls;

namespace Sfu.Fuzz.Targets;

/// <summary>
/// DTLS datagrams from a client, into a fresh server-role transport (the server's side of every WebRTC transport):
/// cut into records, filtered, and fed to OpenSSL one record at a time, with a retransmission timeout after them.
/// The input is a sequence of datagrams (<see cref="Datagrams"/>). The same bytes also go through the sending side's
/// record packing, which must hand every byte on exactly once.
/// </summary>
public sealed class DtlsTarget : FuzzTarget
{
    private readonly DtlsCertificate _certificate = DtlsCertificate.Generate();
    private readonly DtlsContext _context;
    private readonly DiscardingSink _sink = new();

    public DtlsTarget() => _context = DtlsContext.Create(_certificate, DtlsRole.Server);

    public override void Execute(ReadOnlySpan<byte> input)
    {
        int packed = 0;
        DtlsDatagrams.Split(input, DtlsTransport.MaxDatagramSize, 0, (_, datagram) => packed += datagram.Length);
        if (packed != input.Length)
        {
            throw new InvalidOperationException($"record packing sent {packed} of {input.Length} bytes");
        }

        using var transport = new DtlsTransport(_context, _sink);
        transport.Start();
        foreach (var datagram in new Datagrams(input))
        {
            transport.Feed(datagram);
        }

        transport.HandleTimeout();
        _ = (transport.State, transport.SrtpKeys, transport.RemoteCertificateFingerprint);
    }

    public override void Dispose()
    {
        _context.Dispose();
        _certificate.Dispose();
        base.Dispose();
    }

    private sealed class DiscardingSink : IDtlsPacketSink
    {
        public void SendDtls(ReadOnlySpan<byte> datagram)
        {
        }
    }
}
