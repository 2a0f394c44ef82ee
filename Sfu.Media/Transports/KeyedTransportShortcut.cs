using System.Net;
using System.Text;
using Sfu.Media.Srtp;
using Sfu.Media.Stun;

namespace Sfu.Media.Transports;

/// <summary>
/// For benchmarks and tests that drive the media path in-process: connects a transport to a client address the
/// way a real client would, minus the DTLS handshake. A real signed ICE check selects the path, then the SRTP keys
/// go in as a finished handshake would hand them over.
/// </summary>
internal static class KeyedTransportShortcut
{
    public static void Connect(WebRtcTransport transport, SocketAddress from, SrtpKeyPair keys)
    {
        var check = new byte[IceStunMessages.MaxMessageLength];
        Span<byte> transaction = stackalloc byte[12];
        StunMessageWriter.NewTransactionId(transaction);
        var username = Encoding.ASCII.GetBytes($"{transport.LocalIce.Ufrag}:in-process");
        var length = IceStunMessages.WriteBindingRequest(check, transaction, username, 2_000_000_000, 7, useCandidate: true, transport.LocalIce.PasswordBytes);
        transport.ReceiveStun(check.AsSpan(0, length), from);
        transport.StartSrtp(keys);
        if (!transport.CanSend) throw new InvalidOperationException("transport did not select the path");
    }
}
