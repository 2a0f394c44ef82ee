using System.Net;
using Sfu.Media.IceTcp;
using Sfu.Media.Stun;
using Sfu.Media.Transports;

namespace Sfu.Media.Worker;

/// <summary>
/// Which transport a datagram belongs to: by source address for UDP paths that passed an ICE check (by the connection's
/// owner for ICE-TCP paths), and by local ICE ufrag for STUN from addresses not seen yet. Worker thread only.
/// </summary>
internal sealed class TransportTable
{
    private readonly Dictionary<SocketAddress, WebRtcTransport> _byAddress = [];
    private readonly Dictionary<string, WebRtcTransport> _byUfrag = new(StringComparer.Ordinal);
    private readonly Dictionary<string, WebRtcTransport>.AlternateLookup<ReadOnlySpan<char>> _byUfragSpan;
    private readonly List<WebRtcTransport> _transports = [];

    public TransportTable() => _byUfragSpan = _byUfrag.GetAlternateLookup<ReadOnlySpan<char>>();

    private int _count;

    /// <summary>Transports open on this worker: its load, as room placement reads it from any thread.</summary>
    public int Count => Volatile.Read(ref _count);

    public void Add(WebRtcTransport transport)
    {
        _transports.Add(transport);
        Volatile.Write(ref _count, _transports.Count);
        _byUfrag[transport.LocalIce.Ufrag] = transport;
    }

    public void Remove(WebRtcTransport transport)
    {
        _transports.Remove(transport);
        Volatile.Write(ref _count, _transports.Count);
        foreach (var (address, owner) in _byAddress.ToArray())
        {
            if (ReferenceEquals(owner, transport)) _byAddress.Remove(address);
        }
        RemoveUfrag(transport.LocalIce.Ufrag, transport);
    }

    public void ReplaceUfrag(WebRtcTransport transport, string oldUfrag)
    {
        RemoveUfrag(oldUfrag, transport);
        _byUfrag[transport.LocalIce.Ufrag] = transport;
    }

    public WebRtcTransport? FindByAddress(SocketAddress address) => _byAddress.GetValueOrDefault(address);

    /// <summary>Finds the transport whose local ufrag leads the STUN USERNAME ("local:remote"); no allocation.</summary>
    public WebRtcTransport? FindByStunUsername(ReadOnlySpan<byte> datagram)
    {
        if (!StunMessageReader.TryParse(datagram, out var message) || !message.TryGetUsername(out var username)) return null;
        if (!IceUsername.TrySplit(username, out var localUfrag, out _) || localUfrag.Length > 256) return null;
        Span<char> chars = stackalloc char[localUfrag.Length];
        for (var i = 0; i < localUfrag.Length; i++) chars[i] = (char)localUfrag[i];
        return _byUfragSpan.TryGetValue(chars, out var transport) ? transport : null;
    }

    /// <summary>
    /// Routes datagrams from <paramref name="address"/> to <paramref name="transport"/> (a verified path). An address
    /// that belonged to another transport moves (a NAT gave the port to a different client): the newest authenticated
    /// check wins, and the previous owner forgets that path.
    /// </summary>
    private void MapAddress(SocketAddress address, WebRtcTransport transport)
    {
        if (_byAddress.TryGetValue(address, out var owner))
        {
            if (ReferenceEquals(owner, transport)) return;
            _byAddress.Remove(address);
            owner.ForgetPath(address, null);
        }
        var copy = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span.CopyTo(copy.Buffer.Span);
        _byAddress[copy] = transport;
    }

    private void UnmapAddress(SocketAddress address, WebRtcTransport transport)
    {
        if (_byAddress.TryGetValue(address, out var owner) && ReferenceEquals(owner, transport)) _byAddress.Remove(address);
    }

    /// <summary><see cref="MapAddress"/> for a path of either protocol: an ICE-TCP connection moves the same way an address does.</summary>
    internal void MapPath(IcePath path, WebRtcTransport transport)
    {
        if (path.Connection is not { } connection)
        {
            MapAddress(path.Address, transport);
            return;
        }
        if (ReferenceEquals(connection.Owner, transport)) return;
        connection.Owner?.ForgetPath(connection.RemoteAddress, connection);
        connection.Owner = transport;
    }

    internal void UnmapPath(IcePath path, WebRtcTransport transport)
    {
        if (path.Connection is not { } connection) UnmapAddress(path.Address, transport);
        else if (ReferenceEquals(connection.Owner, transport)) connection.Owner = null;
    }

    public void Tick(long now)
    {
        for (var i = _transports.Count - 1; i >= 0; i--) _transports[i].OnTick(now);
    }

    public void DisposeAll()
    {
        foreach (var transport in _transports.ToArray()) transport.Dispose();
    }

    private void RemoveUfrag(string ufrag, WebRtcTransport transport)
    {
        if (_byUfrag.TryGetValue(ufrag, out var owner) && ReferenceEquals(owner, transport)) _byUfrag.Remove(ufrag);
    }
}
