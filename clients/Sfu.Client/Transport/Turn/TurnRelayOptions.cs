using System.Globalization;
using System.Net;
using Sfu.Client.Signaling;

namespace Sfu.Client.Transport.Turn;

/// <summary>How the client reaches its TURN server (RFC 8656 section 3.1): UDP, or TCP with STUN/ChannelData framing.</summary>
public enum TurnTransport
{
    Udp,
    Tcp,
}

/// <summary>
/// A TURN server and the long-term credentials for it: with these in <see cref="ClientTransportOptions.Relay"/> the
/// transport sends everything through an allocation on that server (WebRTC's <c>iceTransportPolicy: "relay"</c>).
/// </summary>
public sealed record TurnRelayOptions(IPEndPoint Server, string Username, string Password, TurnTransport Transport = TurnTransport.Udp)
{
    /// <summary>RFC 8656 section 3.1: TURN's default port, over UDP and TCP alike.</summary>
    public const int DefaultPort = 3478;

    /// <summary>
    /// The first <c>turn:</c> URL of <paramref name="servers"/> (the join or resume response's <c>iceServers</c>) over
    /// <paramref name="transport"/> that has credentials and a literal address or a host name that resolves; null when
    /// none. <c>turns:</c> (TLS) is not supported by this client and is skipped.
    /// </summary>
    public static TurnRelayOptions? FromIceServers(IEnumerable<IceServer> servers, TurnTransport transport)
    {
        ArgumentNullException.ThrowIfNull(servers);
        foreach (var server in servers)
        {
            if (server.Username is null || server.Credential is null)
            {
                continue;
            }

            foreach (var url in server.Urls)
            {
                if (TryParseUrl(url, out string host, out int port, out TurnTransport urlTransport) && urlTransport == transport
                    && Resolve(host) is { } address)
                {
                    return new TurnRelayOptions(new IPEndPoint(address, port), server.Username, server.Credential, transport);
                }
            }
        }

        return null;
    }

    /// <summary>Reads <c>turn:host[:port][?transport=udp|tcp]</c> (RFC 7065); false for anything else, <c>turns:</c> included.</summary>
    public static bool TryParseUrl(string url, out string host, out int port, out TurnTransport transport)
    {
        host = "";
        port = DefaultPort;
        transport = TurnTransport.Udp;
        if (!url.StartsWith("turn:", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string rest = url[5..];
        int query = rest.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            string parameter = rest[(query + 1)..];
            if (parameter.Equals("transport=tcp", StringComparison.OrdinalIgnoreCase))
            {
                transport = TurnTransport.Tcp;
            }
            else if (!parameter.Equals("transport=udp", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            rest = rest[..query];
        }

        // An IPv6 literal is bracketed, so the port is whatever follows the last colon outside the brackets.
        int colon = rest.LastIndexOf(':');
        if (colon > rest.LastIndexOf(']'))
        {
            if (!int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is 0 or > 65535)
            {
                return false;
            }

            rest = rest[..colon];
        }

        host = rest.Trim('[', ']');
        return host.Length > 0;
    }

    private static IPAddress? Resolve(string host)
    {
        if (IPAddress.TryParse(host, out IPAddress? literal))
        {
            return literal;
        }

        try
        {
            return Dns.GetHostAddresses(host).FirstOrDefault();
        }
        catch (System.Net.Sockets.SocketException)
        {
            return null;
        }
    }
}
