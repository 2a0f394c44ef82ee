using System.Text.Json.Nodes;
using Sfu.Signaling;
using Sfu.Signaling.Rooms;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Signaling;

/// <summary>
/// A resume and the offline sweep decide the same question (is the peer still here?) and must never both win: a
/// resume that arrives once the silence reached the offline rule is refused even if the sweep has not run yet, and
/// one admitted just before it keeps the peer, whatever the sweep does next.
/// </summary>
public sealed class ResumeAgainstOfflineRuleTests
{
    private ManualClock _clock = null!;
    private RecordingOutbox _outbox = null!;
    private Room _room = null!;
    private Peer _peer = null!;

    [SetUp]
    public void CreateRoomWithOnePeer()
    {
        _clock = new ManualClock();
        _outbox = new RecordingOutbox();
        var policy = LivenessPolicy.From(new SignalingOptions(), _clock);
        _room = new Room("r", maxPeers: 10, policy, new IgnoringListener());
        _peer = new Peer("p", "p", null, PeerRights.All, autoSubscribe: false, _outbox, _clock);
        Assert.That(_room.TryAdmit(_peer, _ => { }), Is.True);
    }

    [Test]
    public void ResumeAfterTheOfflineSilence_BeforeTheSweepRan_IsRefused_AndThePeerTimesOut()
    {
        // The room is not swept here: only TryKeepAlive looks at the clock.
        _clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Multiple(() =>
        {
            Assert.That(_room.TryKeepAlive(_peer), Is.False);
            Assert.That(_room.Peers, Is.Empty);
            Assert.That(_outbox.EndedWith, Is.EqualTo(4004), "the session ends as a timeout does");
        });
    }

    [Test]
    public void ResumeJustBeforeTheOfflineSilence_KeepsThePeer_AndALaterSweepDoesNotRemoveIt()
    {
        _clock.Advance(TimeSpan.FromSeconds(20) - TimeSpan.FromTicks(1));
        Assert.That(_room.TryKeepAlive(_peer), Is.True);
        _clock.Advance(TimeSpan.FromTicks(1));
        _room.CheckLiveness(_clock.GetTimestamp());
        Assert.Multiple(() =>
        {
            Assert.That(_room.Peers, Does.Contain(_peer));
            Assert.That(_outbox.EndedWith, Is.Null);
        });
    }

    private sealed class RecordingOutbox : IPeerOutbox
    {
        public int? EndedWith { get; private set; }

        public void Emit(string eventName, JsonObject? fields) { }

        public void End(int closeCode, string reason) => EndedWith = closeCode;
    }

    private sealed class IgnoringListener : IRoomListener
    {
        public void OnPeerAdmitted(Room room, Peer peer) { }

        public void OnPeerRemoved(Room room, Peer peer, PeerLeftReason reason) { }

        public void OnPeerRecovered(Room room, Peer peer, TimeSpan outage) { }

        public void OnDeadlineChanged(long deadline) { }
    }
}
