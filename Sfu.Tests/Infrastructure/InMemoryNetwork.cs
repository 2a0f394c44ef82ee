using System.Collections.Concurrent;
using System.Net;
using Sfu.Media.Udp;

namespace Sfu.Tests.Infrastructure;

/// <summary>
/// A UDP network in memory: endpoints by address, each datagram delivered whole and in order to the endpoint bound at
/// its destination (or lost, if none is). A client endpoint can move to another address, as a NAT rebinding or a
/// Wi-Fi to 4G change moves a real client. The media worker runs on it through <see cref="WorkerPort"/>, with no socket.
/// </summary>
internal sealed class InMemoryNetwork
{
    private readonly ConcurrentDictionary<SocketAddress, Action<byte[], SocketAddress>> _bound = new();

    /// <summary>Datagrams sent to addresses where nothing is bound.</summary>
    public int Lost => _lost;

    private int _lost;

    /// <summary>A port for a media worker, bound at <paramref name="address"/>.</summary>
    public WorkerPort BindWorker(IPEndPoint address)
    {
        var port = new WorkerPort(this, address);
        Bind(port.LocalEndPoint.Serialize(), port.Deliver);
        return port;
    }

    /// <summary>A client endpoint bound at <paramref name="address"/>.</summary>
    public Client BindClient(IPEndPoint address) => new(this, address);

    private void Bind(SocketAddress address, Action<byte[], SocketAddress> deliver)
    {
        if (!_bound.TryAdd(address, deliver)) throw new InvalidOperationException($"{address} is bound already");
    }

    private void Unbind(SocketAddress address) => _bound.TryRemove(address, out _);

    private void Send(ReadOnlySpan<byte> datagram, SocketAddress from, SocketAddress to)
    {
        if (_bound.TryGetValue(to, out var deliver)) deliver(datagram.ToArray(), Copy(from));
        else Interlocked.Increment(ref _lost);
    }

    private static SocketAddress Copy(SocketAddress address)
    {
        var copy = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span.CopyTo(copy.Buffer.Span);
        return copy;
    }

    /// <summary>The worker's side: what <see cref="UdpPort"/> does with a socket, done with queues.</summary>
    public sealed class WorkerPort(InMemoryNetwork network, IPEndPoint address) : IDatagramPort
    {
        private readonly ConcurrentQueue<(byte[] Data, SocketAddress From)> _inbox = new();
        private readonly List<(byte[] Data, SocketAddress From)> _batch = [];
        private readonly SemaphoreSlim _signal = new(0);
        private readonly SocketAddress _self = address.Serialize();

        public IPEndPoint LocalEndPoint { get; } = address;

        /// <summary>Whether the worker has taken every datagram sent to it (and so handled it, before its next command).</summary>
        public bool IsDrained => _inbox.IsEmpty;

        internal void Deliver(byte[] datagram, SocketAddress from)
        {
            _inbox.Enqueue((datagram, from));
            _signal.Release();
        }

        public bool Wait(TimeSpan timeout)
        {
            if (!_inbox.IsEmpty) return true;
            _signal.Wait(timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero);
            return !_inbox.IsEmpty;
        }

        public void Wake() => _signal.Release();

        public int ReceiveBatch()
        {
            _batch.Clear();
            while (_batch.Count < UdpPort.ReceiveBatchSize && _inbox.TryDequeue(out var datagram)) _batch.Add(datagram);
            return _batch.Count;
        }

        public Span<byte> Received(int index, SocketAddress from)
        {
            var (data, sender) = _batch[index];
            sender.Buffer.Span.CopyTo(from.Buffer.Span);
            from.Size = sender.Size;
            return data;
        }

        public long? ReceivedAt(int index) => null;

        public bool TrySend(ReadOnlySpan<byte> datagram, SocketAddress to)
        {
            network.Send(datagram, _self, to);
            return true;
        }

        public void Flush()
        {
        }

        public void Dispose() => network.Unbind(_self);
    }

    /// <summary>A client's endpoint: sends from its current address, keeps what arrives there.</summary>
    public sealed class Client
    {
        private readonly InMemoryNetwork _network;
        private readonly ConcurrentQueue<(byte[] Data, SocketAddress From)> _inbox = new();

        internal Client(InMemoryNetwork network, IPEndPoint address)
        {
            _network = network;
            Address = address.Serialize();
            network.Bind(Address, Deliver);
        }

        public SocketAddress Address { get; private set; }

        public void Send(ReadOnlySpan<byte> datagram, IPEndPoint to) => _network.Send(datagram, Address, to.Serialize());

        /// <summary>Moves to <paramref name="address"/>: datagrams to the old one are lost from now on.</summary>
        public void MoveTo(IPEndPoint address)
        {
            _network.Unbind(Address);
            Address = address.Serialize();
            _network.Bind(Address, Deliver);
        }

        /// <summary>Everything that arrived since the last call.</summary>
        public List<byte[]> Drain()
        {
            var datagrams = new List<byte[]>();
            while (_inbox.TryDequeue(out var datagram)) datagrams.Add(datagram.Data);
            return datagrams;
        }

        private void Deliver(byte[] datagram, SocketAddress from) => _inbox.Enqueue((datagram, from));
    }
}
