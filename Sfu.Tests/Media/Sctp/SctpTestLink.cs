using Sfu.Media.Sctp;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Sctp;

/// <summary>
/// Two real associations joined by an in-memory link on a <see cref="ManualClock"/>: every packet is delivered after
/// a delay (plus an optional random extra that reorders), unless a drop rule takes it. <see cref="RunUntil"/> moves
/// the clock from event to event (a delivery or an association's timer), so a test sees exactly what the protocol
/// does over simulated seconds without waiting for them.
/// </summary>
internal sealed class SctpTestLink
{
    private readonly PriorityQueue<(Endpoint To, byte[] Packet), (DateTimeOffset At, long Order)> _inFlight = new();
    private readonly Random _random;
    private long _order;

    public SctpTestLink(int seed = 1, SctpAssociationOptions? optionsA = null, SctpAssociationOptions? optionsB = null)
    {
        _random = new Random(seed);
        A = new Endpoint(this, optionsA ?? new SctpAssociationOptions());
        B = new Endpoint(this, optionsB ?? new SctpAssociationOptions());
        A.Peer = B;
        B.Peer = A;
    }

    public ManualClock Clock { get; } = new();

    public Endpoint A { get; }

    public Endpoint B { get; }

    public TimeSpan Delay { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Random extra delay up to this, per packet: later packets overtake earlier ones.</summary>
    public TimeSpan Jitter { get; set; }

    /// <summary>Probability that a packet is lost, both directions.</summary>
    public double LossRate { get; set; }

    /// <summary>Drops every packet while true (a dead path).</summary>
    public bool Down { get; set; }

    /// <summary>A drop rule of the test's own, seeing the sender and the packet; true drops it.</summary>
    public Func<Endpoint, byte[], bool>? Drop { get; set; }

    public void Connect()
    {
        A.Association.Connect();
        RunUntil(() => A.Association.State == SctpAssociationState.Established && B.Association.State == SctpAssociationState.Established, TimeSpan.FromSeconds(30));
    }

    /// <summary>Runs events until <paramref name="done"/> holds; fails the test if simulated time runs out first.</summary>
    public void RunUntil(Func<bool> done, TimeSpan limit)
    {
        DateTimeOffset end = Clock.GetUtcNow() + limit;
        while (!done())
        {
            DateTimeOffset? next = NextEvent();
            Assert.That(next, Is.Not.Null, "nothing left to happen and the condition does not hold");
            Assert.That(next!.Value, Is.LessThanOrEqualTo(end), $"not done within {limit} of simulated time");
            Step(next.Value);
        }
    }

    /// <summary>Runs every event of the next <paramref name="span"/> of simulated time, whatever happens.</summary>
    public void RunFor(TimeSpan span)
    {
        DateTimeOffset end = Clock.GetUtcNow() + span;
        while (NextEvent() is { } next && next <= end)
        {
            Step(next);
        }

        Clock.Advance(end - Clock.GetUtcNow());
    }

    private void Step(DateTimeOffset next)
    {
        if (next > Clock.GetUtcNow())
        {
            Clock.Advance(next - Clock.GetUtcNow());
        }

        if (_inFlight.TryPeek(out _, out var head) && head.At <= Clock.GetUtcNow())
        {
            var (to, packet) = _inFlight.Dequeue();
            to.Association.HandlePacket(packet);
            return;
        }

        foreach (Endpoint endpoint in new[] { A, B })
        {
            if (endpoint.Association.NextTimeout <= Clock.GetUtcNow())
            {
                endpoint.Association.HandleTimeout();
            }
        }
    }

    private DateTimeOffset? NextEvent()
    {
        DateTimeOffset? next = Earliest(A.Association.NextTimeout, B.Association.NextTimeout);
        return _inFlight.TryPeek(out _, out var head) ? Earliest(next, head.At) : next;
    }

    private void Transmit(Endpoint from, ReadOnlySpan<byte> packet)
    {
        byte[] copy = packet.ToArray();
        from.Sent.Add(copy);
        if (Down || (LossRate > 0 && _random.NextDouble() < LossRate) || (Drop?.Invoke(from, copy) ?? false))
        {
            return;
        }

        TimeSpan delay = Delay + (Jitter * _random.NextDouble());
        _inFlight.Enqueue((from.Peer, copy), (Clock.GetUtcNow() + delay, _order++));
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a < b ? a : b;

    internal sealed class Endpoint : ISctpAssociationListener
    {
        private readonly SctpTestLink _link;

        public Endpoint(SctpTestLink link, SctpAssociationOptions options)
        {
            _link = link;
            Association = new SctpAssociation(options, this, link.Clock);
        }

        public SctpAssociation Association { get; }

        public Endpoint Peer { get; set; } = null!;

        public List<(ushort Stream, uint Ppid, byte[] Payload)> Received { get; } = [];

        public List<byte[]> Sent { get; } = [];

        public List<ushort> ResetStreams { get; } = [];

        public string? ClosedReason { get; private set; }

        public void SendSctpPacket(ReadOnlySpan<byte> packet) => _link.Transmit(this, packet);

        public void OnSctpMessage(ushort stream, uint ppid, ReadOnlySpan<byte> payload) => Received.Add((stream, ppid, payload.ToArray()));

        public void OnSctpEstablished()
        {
        }

        public void OnSctpIncomingStreamsReset(ReadOnlySpan<ushort> streams) => ResetStreams.AddRange(streams);

        public void OnSctpClosed(string reason) => ClosedReason = reason;
    }
}
