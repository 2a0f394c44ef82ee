using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sfu.Tests.Infrastructure;

/// <summary>
/// A userspace UDP middlebox between one client and the server (this kernel has no <c>tc netem</c>). The
/// client sends to <see cref="ListenEndPoint"/>; the relay forwards from its own upstream socket, so the server
/// sees <see cref="UpstreamEndPoint"/> as the client's address, and replies go back the same way. Each direction
/// can drop, black-hole, delay, reorder and duplicate; <see cref="RebindUpstream"/> swaps the upstream socket for a new
/// port, which from the server's side is exactly a NAT rebinding. Random choices come from seeded generators,
/// one per direction, so a given packet sequence meets the same fate on every run.
/// </summary>
public sealed class UdpRelay : IAsyncDisposable
{
    private readonly IPEndPoint _server;
    private readonly SocketAddress _serverAddress;
    private readonly Socket _listen;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _clientGate = new();
    private readonly List<Task> _loops = [];
    private readonly List<Socket> _retiredUpstreams = [];
    private Socket _upstream;
    private SocketAddress? _client;
    private long _staleUpstreamReceived;

    /// <param name="server">Where client datagrams go.</param>
    /// <param name="listenAddress">Address the client-facing socket binds (loopback by default).</param>
    /// <param name="seed">Seeds the client-to-server generator; server-to-client uses seed + 1.</param>
    public UdpRelay(IPEndPoint server, IPAddress? listenAddress = null, int seed = 1)
    {
        _server = server;
        _serverAddress = server.Serialize();
        _listen = Bind(listenAddress ?? IPAddress.Loopback);
        _upstream = Bind(UpstreamBindAddress(server));
        ListenEndPoint = (IPEndPoint)_listen.LocalEndPoint!;
        ClientToServer = new RelayLane(seed, SendUpstream);
        ServerToClient = new RelayLane(seed + 1, SendToClient);
        _loops.Add(ClientToServer.RunAsync(_stopping.Token));
        _loops.Add(ServerToClient.RunAsync(_stopping.Token));
        _loops.Add(ReceiveFromClientAsync());
        _loops.Add(ReceiveFromServerAsync(_upstream));
    }

    /// <summary>Where the client sends (the "server address" it is given).</summary>
    public IPEndPoint ListenEndPoint { get; }

    /// <summary>The source address the server currently sees for the client.</summary>
    public IPEndPoint UpstreamEndPoint => (IPEndPoint)Volatile.Read(ref _upstream).LocalEndPoint!;

    public RelayLane ClientToServer { get; }

    public RelayLane ServerToClient { get; }

    /// <summary>How many times the upstream socket was replaced.</summary>
    public int Rebinds { get; private set; }

    /// <summary>Datagrams the server sent to an old upstream address kept open by <see cref="RebindUpstream(bool)"/>.</summary>
    public long StaleUpstreamReceived => Interlocked.Read(ref _staleUpstreamReceived);

    /// <summary>
    /// Replaces the upstream socket with one on a new port: later client datagrams reach the server from the
    /// new address, and whatever the server still sends to the old one is lost, as behind a NAT that
    /// forgot its mapping. Returns the new upstream address.
    /// </summary>
    /// <param name="keepOldListening">
    /// Keep the old socket open, forwarding nothing but counting what still arrives there
    /// (<see cref="StaleUpstreamReceived"/>), to prove the server stopped sending to the old address.
    /// </param>
    public IPEndPoint RebindUpstream(bool keepOldListening = false)
    {
        var fresh = Bind(UpstreamBindAddress(_server));
        var old = Interlocked.Exchange(ref _upstream, fresh);
        if (keepOldListening)
        {
            lock (_loops) _retiredUpstreams.Add(old);
        }
        else old.Dispose();
        Rebinds++;
        lock (_loops)
        {
            _loops.Add(ReceiveFromServerAsync(fresh));
        }

        return (IPEndPoint)fresh.LocalEndPoint!;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listen.Dispose();
        Volatile.Read(ref _upstream).Dispose();
        lock (_loops)
        {
            foreach (var retired in _retiredUpstreams) retired.Dispose();
        }
        Task[] loops;
        lock (_loops)
        {
            loops = [.. _loops];
        }

        await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
    }

    private static IPAddress UpstreamBindAddress(IPEndPoint server) =>
        IPAddress.IsLoopback(server.Address) ? IPAddress.Loopback : (server.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any);

    private static Socket Bind(IPAddress address)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp)
        {
            ReceiveBufferSize = 1 << 20,
            SendBufferSize = 1 << 20,
        };
        socket.Bind(new IPEndPoint(address, 0));
        return socket;
    }

    private void SendUpstream(ReadOnlySpan<byte> datagram)
    {
        try
        {
            Volatile.Read(ref _upstream).SendTo(datagram, SocketFlags.None, _serverAddress);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // A socket replaced mid-send, or an ICMP error from a previous send: the datagram is lost, as on a network.
        }
    }

    private void SendToClient(ReadOnlySpan<byte> datagram)
    {
        SocketAddress? client;
        lock (_clientGate)
        {
            client = _client;
        }

        if (client is null)
        {
            return;
        }

        try
        {
            _listen.SendTo(datagram, SocketFlags.None, client);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ReceiveFromClientAsync()
    {
        var buffer = new byte[65536];
        var from = new SocketAddress(_listen.AddressFamily);
        while (!_stopping.IsCancellationRequested)
        {
            int length;
            try
            {
                length = await _listen.ReceiveFromAsync(buffer, SocketFlags.None, from, _stopping.Token);
            }
            catch (SocketException)
            {
                continue;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }

            lock (_clientGate)
            {
                // The last source wins: a client that rebinds its own socket is followed.
                if (_client is null || !_client.Equals(from))
                {
                    _client = new SocketAddress(from.Family, from.Size);
                    from.Buffer.CopyTo(_client.Buffer);
                }
            }

            ClientToServer.Submit(buffer.AsSpan(0, length));
        }
    }

    private async Task ReceiveFromServerAsync(Socket upstream)
    {
        var buffer = new byte[65536];
        var from = new SocketAddress(upstream.AddressFamily);
        while (!_stopping.IsCancellationRequested)
        {
            int length;
            try
            {
                length = await upstream.ReceiveFromAsync(buffer, SocketFlags.None, from, _stopping.Token);
            }
            catch (SocketException e) when (e.SocketErrorCode != SocketError.OperationAborted)
            {
                continue;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            if (!from.Equals(_serverAddress)) continue;
            if (ReferenceEquals(upstream, Volatile.Read(ref _upstream))) ServerToClient.Submit(buffer.AsSpan(0, length));
            else Interlocked.Increment(ref _staleUpstreamReceived);
        }
    }
}

/// <summary>
/// One direction of a <see cref="UdpRelay"/>: decides each datagram's fate (drop, black hole, delay, reorder,
/// duplicate) and counts. Datagrams without delay go out at once on the receiving thread; delayed ones wait in a queue
/// ordered by due time, so a reordered datagram (held back by <see cref="ReorderDelay"/>) is overtaken by
/// the ones after it.
/// </summary>
public sealed class RelayLane
{
    private readonly Random _random;

    // Its own generator, so that turning duplication on does not change which datagrams the other settings pick.
    private readonly Random _duplicates;
    private readonly DatagramSender _send;
    private readonly PriorityQueue<(byte[] Data, int Length), (long Due, long Order)> _queue = new();
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _signal = new(0);
    private long _order;
    private long _received;
    private long _forwarded;
    private long _dropped;
    private long _reordered;
    private long _duplicated;

    internal RelayLane(int seed, DatagramSender send)
    {
        _random = new Random(seed);
        _duplicates = new Random(seed ^ 0x5EED);
        _send = send;
    }

    /// <summary>Each datagram is dropped with this probability (0 to 1).</summary>
    public double DropProbability { get; set; }

    /// <summary>Drops everything while set, like a path that went dead.</summary>
    public bool BlackHole { get; set; }

    /// <summary>Added to every datagram's travel time.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Each datagram is held back by <see cref="ReorderDelay"/> with this probability, so later ones pass it.</summary>
    public double ReorderProbability { get; set; }

    public TimeSpan ReorderDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Each datagram that gets through is sent twice with this probability, the copy right after the original.</summary>
    public double DuplicateProbability { get; set; }

    /// <summary>Consulted first for every datagram; return true to drop it (e.g. only STUN, only after N packets).</summary>
    public Func<ReadOnlyMemory<byte>, bool>? DropWhen { get; set; }

    public long Received => Interlocked.Read(ref _received);

    public long Forwarded => Interlocked.Read(ref _forwarded);

    public long Dropped => Interlocked.Read(ref _dropped);

    public long Reordered => Interlocked.Read(ref _reordered);

    public long Duplicated => Interlocked.Read(ref _duplicated);

    internal void Submit(ReadOnlySpan<byte> datagram)
    {
        Interlocked.Increment(ref _received);

        // Both draws happen for every datagram, whatever the settings, so one setting's change does not
        // shift the random sequence the other one sees.
        bool drop = _random.NextDouble() < DropProbability;
        bool reorder = _random.NextDouble() < ReorderProbability;
        if (BlackHole || drop || (DropWhen is { } dropWhen && dropWhen(datagram.ToArray())))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        var delay = Delay + (reorder ? ReorderDelay : TimeSpan.Zero);
        if (reorder)
        {
            Interlocked.Increment(ref _reordered);
        }

        var copies = _duplicates.NextDouble() < DuplicateProbability ? 2 : 1;
        if (copies == 2)
        {
            Interlocked.Increment(ref _duplicated);
        }

        for (var i = 0; i < copies; i++)
        {
            Pass(datagram, delay);
        }
    }

    private void Pass(ReadOnlySpan<byte> datagram, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero && IsQueueEmpty())
        {
            Forward(datagram);
            return;
        }

        var copy = ArrayPool<byte>.Shared.Rent(datagram.Length);
        datagram.CopyTo(copy);
        long due = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
        lock (_gate)
        {
            _queue.Enqueue((copy, datagram.Length), (due, _order++));
        }

        _signal.Release();
    }

    internal async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                (byte[] Data, int Length) next = default;
                long wait = -1;
                lock (_gate)
                {
                    if (_queue.TryPeek(out var item, out var priority))
                    {
                        long now = Stopwatch.GetTimestamp();
                        if (priority.Due <= now)
                        {
                            next = _queue.Dequeue();
                        }
                        else
                        {
                            wait = (priority.Due - now) * 1000 / Stopwatch.Frequency;
                        }
                    }
                }

                if (next.Data is not null)
                {
                    Forward(next.Data.AsSpan(0, next.Length));
                    ArrayPool<byte>.Shared.Return(next.Data);
                    continue;
                }

                await _signal.WaitAsync(wait < 0 ? Timeout.Infinite : (int)Math.Max(1, wait), stopping);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private bool IsQueueEmpty()
    {
        lock (_gate)
        {
            return _queue.Count == 0;
        }
    }

    private void Forward(ReadOnlySpan<byte> datagram)
    {
        Interlocked.Increment(ref _forwarded);
        _send(datagram);
    }

    internal delegate void DatagramSender(ReadOnlySpan<byte> datagram);
}
