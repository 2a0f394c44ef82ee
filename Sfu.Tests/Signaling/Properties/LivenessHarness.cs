using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sfu.Signaling;
using Sfu.Signaling.Diagnostics;
using Sfu.Signaling.Protocol;
using Sfu.Signaling.Rooms;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Signaling.Properties;

/// <summary>
/// Runs a schedule of <see cref="LivenessStep"/>s against the real <see cref="RoomRegistry"/> (its one deadline timer,
/// its rooms and peers) on a <see cref="ManualClock"/>, and a model of PROTOCOL.md's liveness rules: others hear
/// <c>peer-state interrupted</c> when a peer's silence reaches 4 s and <c>active</c> when it speaks again, the peer is
/// removed (<c>peer-left timeout</c>, its session ended with 4004) when the silence reaches 20 s, and an empty room
/// closes 10 s after its last peer left unless someone joined. After each step, what every peer was sent (with the
/// clock's time) and when the room closed must equal the model exactly.
/// </summary>
internal sealed class LivenessHarness : IDisposable
{
    private const string RoomId = "room";
    private const long InterruptedAfter = 4000;
    private const long OfflineAfter = 20000;
    private const long EmptyRoomClose = 10000;

    private static readonly SignalingMetrics Metrics =
        new(Prometheus.Metrics.NewCustomRegistry());

    private readonly ManualClock _clock = new();
    private readonly DateTimeOffset _start;
    private readonly RoomRegistry _registry;
    private readonly RoomCloseRecorder _closes;
    private readonly List<ModelPeer> _peers = [];

    // The model's room: when it became empty (null while someone is in it) and the closes it expects.
    private long? _emptySince = 0;
    private bool _roomOpen;
    private readonly List<long> _expectedCloses = [];

    public LivenessHarness()
    {
        _start = _clock.GetUtcNow();
        _closes = new RoomCloseRecorder(() => Now);
        var options = new SignalingOptions();
        _registry = new RoomRegistry(Options.Create(options), LivenessPolicy.From(options, _clock), Metrics, _closes);
    }

    private long Now => (long)(_clock.GetUtcNow() - _start).TotalMilliseconds;

    public void Run(IEnumerable<LivenessStep> steps)
    {
        foreach (var step in steps)
        {
            Apply(step);
            Compare(step);
        }
    }

    public void Dispose() => _registry.Dispose();

    private void Apply(LivenessStep step)
    {
        switch (step)
        {
            case Advance advance:
                var target = Now + advance.Milliseconds;
                RunModelUntil(target);
                _clock.Advance(TimeSpan.FromMilliseconds(advance.Milliseconds));
                break;
            case Join:
                var peer = new ModelPeer($"p{_peers.Count}", _clock, () => Now) { LastHeard = Now };
                foreach (var other in Present()) other.Expected.Add($"{Now} peer-joined {peer.Id}");
                _peers.Add(peer);
                _emptySince = null;
                _roomOpen = true;
                _registry.Join(RoomId, peer.Real, _ => { });
                break;
            case Speak speak when _peers.Count > 0:
                var speaker = _peers[speak.Peer % _peers.Count];
                if (speaker.Present)
                {
                    speaker.LastHeard = Now;
                    if (speaker.Interrupted) Broadcast(speaker, "peer-state active");
                    speaker.Interrupted = false;
                }
                speaker.Real.MarkAlive();
                break;
            case Leave leave when _peers.Count > 0:
                var leaving = _peers[leave.Peer % _peers.Count];
                if (leaving.Present) Remove(leaving, "leave", CloseCodes.Normal);
                leaving.Real.Room.Remove(leaving.Real, PeerLeftReason.Leave);
                break;
        }
    }

    /// <summary>Applies every rule that falls due up to <paramref name="target"/>, earliest first, as the model sees it.</summary>
    private void RunModelUntil(long target)
    {
        while (true)
        {
            var next = long.MaxValue;
            Action? fire = null;
            foreach (var peer in Present())
            {
                var due = peer.Interrupted ? peer.LastHeard + OfflineAfter : peer.LastHeard + InterruptedAfter;
                if (due >= next) continue;
                next = due;
                fire = peer.Interrupted
                    ? () => Remove(peer, "timeout", CloseCodes.SessionExpired)
                    : () =>
                    {
                        peer.Interrupted = true;
                        Broadcast(peer, "peer-state interrupted");
                    };
            }
            if (_roomOpen && _emptySince is { } since && since + EmptyRoomClose < next)
            {
                next = since + EmptyRoomClose;
                fire = () =>
                {
                    _roomOpen = false;
                    _expectedCloses.Add(since + EmptyRoomClose);
                };
            }
            if (fire is null || next > target) return;
            _modelNow = next;
            fire();
        }
    }

    // The model's clock while it runs ahead to a target; outside RunModelUntil it is the real one.
    private long? _modelNow;

    private long At => _modelNow ?? Now;

    private void Remove(ModelPeer peer, string reason, int closeCode)
    {
        peer.Present = false;
        peer.Expected.Add($"{At} ended {closeCode}");
        Broadcast(peer, $"peer-left {reason}");
        if (!Present().Any()) _emptySince = At;
    }

    private void Broadcast(ModelPeer about, string what)
    {
        foreach (var other in Present().Where(p => p != about)) other.Expected.Add($"{At} {what} {about.Id}");
    }

    private IEnumerable<ModelPeer> Present() => _peers.Where(p => p.Present);

    private void Compare(LivenessStep step)
    {
        _modelNow = null;
        foreach (var peer in _peers)
        {
            // Rules falling due at the same instant for several peers may be applied in either order: sorted, and
            // whether a peer hears what happens to others at the instant of its own removal is left open.
            var expected = Comparable(peer.Expected);
            var actual = Comparable(peer.Outbox.Received);
            if (!expected.SequenceEqual(actual))
                throw new PropertyViolation($"after {step} at {Now} ms, {peer.Id} was sent [{string.Join("; ", actual)}], expected [{string.Join("; ", expected)}]");
        }
        if (!_expectedCloses.SequenceEqual(_closes.ClosedAt))
            throw new PropertyViolation($"after {step} at {Now} ms, the room closed at [{string.Join(", ", _closes.ClosedAt)}] ms, expected [{string.Join(", ", _expectedCloses)}]");
    }

    private static List<string> Comparable(List<string> received)
    {
        var endedAt = received.Where(r => r.EndsWith(" ended 4004", StringComparison.Ordinal)).Select(r => r.Split(' ')[0]).ToHashSet();
        return received
            .Where(r => r.EndsWith(" ended 4004", StringComparison.Ordinal) || !endedAt.Contains(r.Split(' ')[0]))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>A peer as the model sees it, with the real <see cref="Peer"/> and what its outbox received.</summary>
    private sealed class ModelPeer
    {
        public ModelPeer(string id, ManualClock clock, Func<long> now)
        {
            Id = id;
            Outbox = new RecordingOutbox(now);
            Real = new Peer(id, id, identity: null, PeerRights.All, autoSubscribe: false, Outbox, clock);
        }

        public string Id { get; }

        public Peer Real { get; }

        public RecordingOutbox Outbox { get; }

        public List<string> Expected { get; } = [];

        public long LastHeard { get; set; }

        public bool Interrupted { get; set; }

        public bool Present { get; set; } = true;
    }

    /// <summary>What a room sent one peer, as "time event detail peerId" lines on the clock's milliseconds.</summary>
    private sealed class RecordingOutbox(Func<long> now) : IPeerOutbox
    {
        public List<string> Received { get; } = [];

        public void Emit(string eventName, JsonObject? fields)
        {
            var detail = eventName switch
            {
                "peer-state" => $" {fields!["state"]}",
                "peer-left" => $" {fields!["reason"]}",
                _ => "",
            };
            var about = eventName == "peer-joined" ? fields!["peer"]!["peerId"] : fields?["peerId"];
            Received.Add($"{now()} {eventName}{detail} {about}");
        }

        public void End(int closeCode, string reason) => Received.Add($"{now()} ended {closeCode}");
    }

    /// <summary>The registry's "room closed" log lines, with the clock's time: the one place a close is observable.</summary>
    private sealed class RoomCloseRecorder(Func<long> now) : ILogger<RoomRegistry>
    {
        public List<long> ClosedAt { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == 101) ClosedAt.Add(now());
        }
    }
}
