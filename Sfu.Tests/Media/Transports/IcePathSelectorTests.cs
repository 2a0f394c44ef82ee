using System.Net;
using Sfu.Media.Transports;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Media.Transports;

/// <summary>
/// ICE-lite's path rules on a manual clock, without a transport, sockets or STUN: each test says which checks passed
/// when, and reads which path media goes to and what the selector reported.
/// </summary>
public sealed class IcePathSelectorTests
{
    private static readonly TimeSpan SilentSwitch = TimeSpan.FromMilliseconds(1500);
    private static readonly TimeSpan ConsentTimeout = TimeSpan.FromSeconds(30);

    private static readonly SocketAddress WiFi = new IPEndPoint(IPAddress.Parse("192.0.2.10"), 50001).Serialize();
    private static readonly SocketAddress Cellular = new IPEndPoint(IPAddress.Parse("198.51.100.7"), 40002).Serialize();

    private ManualClock _clock = null!;
    private Recorder _events = null!;
    private IcePathSelector _selector = null!;

    [SetUp]
    public void Create()
    {
        _clock = new ManualClock();
        _events = new Recorder();
        _selector = new IcePathSelector(_clock, SilentSwitch, ConsentTimeout, _events);
    }

    [Test]
    public void FirstCheck_SelectsItsPath_AsInitial()
    {
        _selector.OnAuthenticatedCheck(WiFi, null, useCandidate: false);

        Assert.Multiple(() =>
        {
            Assert.That(_selector.Selected?.Address, Is.EqualTo(WiFi));
            Assert.That(_events.Selections, Is.EqualTo(new[] { (WiFi, PathSwitchTrigger.Initial) }));
            Assert.That(_events.Verified, Is.EqualTo(new[] { WiFi }));
        });
    }

    [Test]
    public void CheckFromAnotherAddress_WhileTheSelectedOneIsLive_MovesMediaOnlyWhenNominated()
    {
        _selector.OnAuthenticatedCheck(WiFi, null, useCandidate: true);
        _clock.Advance(TimeSpan.FromMilliseconds(100));

        _selector.OnAuthenticatedCheck(Cellular, null, useCandidate: false);
        Assert.That(_selector.Selected?.Address, Is.EqualTo(WiFi), "a plain check from a second live path changes nothing");

        _selector.OnAuthenticatedCheck(Cellular, null, useCandidate: true);
        Assert.Multiple(() =>
        {
            Assert.That(_selector.Selected?.Address, Is.EqualTo(Cellular));
            Assert.That(_events.Selections[^1], Is.EqualTo((Cellular, PathSwitchTrigger.Nominated)));
        });
    }

    [Test]
    public void CheckFromAnotherAddress_AfterTheSelectedOneWasSilentForTheSwitchInterval_MovesMedia_NotOneTickBefore()
    {
        var wifi = _selector.OnAuthenticatedCheck(WiFi, null, useCandidate: true);
        _clock.Advance(SilentSwitch - TimeSpan.FromTicks(1));
        _selector.OnAuthenticatedCheck(Cellular, null, useCandidate: false);
        Assert.That(_selector.Selected, Is.SameAs(wifi), "silent for one tick less than the interval");

        _clock.Advance(TimeSpan.FromTicks(1));
        _selector.OnAuthenticatedCheck(Cellular, null, useCandidate: false);
        Assert.That(_events.Selections[^1], Is.EqualTo((Cellular, PathSwitchTrigger.SilentPath)));
    }

    [Test]
    public void Tick_MovesMediaToAPathVerifiedAfterTheSelectedOneWentQuiet()
    {
        var wifi = _selector.OnAuthenticatedCheck(WiFi, null, useCandidate: true);
        _clock.Advance(TimeSpan.FromMilliseconds(500));
        _selector.OnAuthenticatedCheck(Cellular, null, useCandidate: false);

        _clock.Advance(SilentSwitch - TimeSpan.FromMilliseconds(500) - TimeSpan.FromTicks(1));
        _selector.OnTick(keyed: true);
        Assert.That(_selector.Selected, Is.SameAs(wifi));

        _clock.Advance(TimeSpan.FromTicks(1));
        _selector.OnTick(keyed: true);
        Assert.That(_events.Selections[^1], Is.EqualTo((Cellular, PathSwitchTrigger.SilentPath)));
    }

    [Test]
    public void Tick_KeepsAQuietSelectedPath_WhenNoOtherWasVerifiedSinceItWentQuiet()
    {
        _selector.OnAuthenticatedCheck(Cellular, null, useCandidate: false);
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        var wifi = _selector.OnAuthenticatedCheck(WiFi, null, useCandidate: true);
        _clock.Advance(TimeSpan.FromSeconds(5));

        _selector.OnTick(keyed: true);

        Assert.That(_selector.Selected, Is.SameAs(wifi), "the older path proved nothing after the selected one went quiet");
    }

    [Test]
    public void MediaOnThePath_KeepsItFromLookingSilent()
    {
        var wifi = _selector.OnAuthenticatedCheck(WiFi, null, useCandidate: true);
        _clock.Advance(TimeSpan.FromSeconds(1));
        _selector.OnReceived(wifi);
        _clock.Advance(TimeSpan.FromSeconds(1));

        _selector.OnAuthenticatedCheck(Cellular, null, useCandidate: false);

        Assert.That(_selector.Selected, Is.SameAs(wifi), "heard 1 s ago: not silent for 1.5 s");
    }

    [Test]
    public void ConsentLapse_DropsThePath_MovesToTheSurvivor_ThenReportsTheLossOnce()
    {
        var wifi = _selector.OnAuthenticatedCheck(WiFi, null, useCandidate: true);
        _clock.Advance(TimeSpan.FromSeconds(10));
        _selector.OnReceived(wifi); // media flows, but no check renews the consent
        _selector.OnAuthenticatedCheck(Cellular, null, useCandidate: false);

        _clock.Advance(TimeSpan.FromSeconds(20) - TimeSpan.FromTicks(1));
        _selector.OnTick(keyed: true);
        Assert.That(_events.Dropped, Is.Empty, "consent is fresh for 30 s");
        _clock.Advance(TimeSpan.FromTicks(1));
        _selector.OnTick(keyed: true);
        Assert.Multiple(() =>
        {
            Assert.That(_events.Dropped, Is.EqualTo(new[] { (WiFi, true) }));
            Assert.That(_events.Selections[^1], Is.EqualTo((Cellular, PathSwitchTrigger.ConsentLapsed)));
        });

        _clock.Advance(TimeSpan.FromSeconds(10));
        _selector.OnTick(keyed: true);
        _selector.OnTick(keyed: true);
        Assert.Multiple(() =>
        {
            Assert.That(_selector.Selected, Is.Null);
            Assert.That(_events.Lost, Is.EqualTo(1), "reported once, not every tick");
        });
    }

    [Test]
    public void LossBeforeKeying_IsNotReported()
    {
        _selector.OnAuthenticatedCheck(WiFi, null, useCandidate: true);
        _clock.Advance(ConsentTimeout);
        _selector.OnTick(keyed: false);

        Assert.That(_events.Lost, Is.Zero);
    }

    [Test]
    public void CheckAfterEveryPathWasLost_RestoresMedia_AsRestored()
    {
        _selector.OnAuthenticatedCheck(WiFi, null, useCandidate: true);
        _selector.ForgetAll();

        _selector.OnAuthenticatedCheck(Cellular, null, useCandidate: false);

        Assert.That(_events.Selections[^1], Is.EqualTo((Cellular, PathSwitchTrigger.Restored)));
    }

    [Test]
    public void ForgettingTheSelectedPath_MovesMediaToAnotherVerifiedOneAtTheNextTick_WithoutDroppingIt()
    {
        _selector.OnAuthenticatedCheck(Cellular, null, useCandidate: false);
        _clock.Advance(TimeSpan.FromMilliseconds(10));
        _selector.OnAuthenticatedCheck(WiFi, null, useCandidate: true);

        var forgotten = _selector.Forget(WiFi, null);
        Assert.That(_selector.Selected, Is.Null);
        _selector.OnTick(keyed: true);

        Assert.Multiple(() =>
        {
            Assert.That(forgotten?.Address, Is.EqualTo(WiFi));
            Assert.That(_events.Dropped, Is.Empty, "another transport owns that address now: it is not this one's to close");
            Assert.That(_events.Selections[^1], Is.EqualTo((Cellular, PathSwitchTrigger.ConsentLapsed)));
        });
    }

    [Test]
    public void FifthPath_EvictsTheStalestOneNotCarryingMedia()
    {
        var addresses = Enumerable.Range(1, 5).Select(i => new IPEndPoint(IPAddress.Parse("203.0.113.1"), 1000 + i).Serialize()).ToArray();
        _selector.OnAuthenticatedCheck(addresses[0], null, useCandidate: true);
        for (var i = 1; i < 4; i++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(10));
            _selector.OnAuthenticatedCheck(addresses[i], null, useCandidate: false);
        }
        _clock.Advance(TimeSpan.FromMilliseconds(10));
        _selector.OnAuthenticatedCheck(addresses[4], null, useCandidate: false);

        Assert.Multiple(() =>
        {
            Assert.That(_selector.Paths, Has.Count.EqualTo(IcePathSelector.MaxPaths));
            Assert.That(_events.Dropped, Is.EqualTo(new[] { (addresses[1], false) }), "the selected path is the oldest but carries media");
            Assert.That(_selector.Selected?.Address, Is.EqualTo(addresses[0]));
        });
    }

    [Test]
    public void SelectedPathChanges_AreReportedWithTheirPrevious()
    {
        _selector.OnAuthenticatedCheck(WiFi, null, useCandidate: true);
        _selector.OnAuthenticatedCheck(Cellular, null, useCandidate: true);
        _selector.Close();

        Assert.That(_events.Changes, Is.EqualTo(new (SocketAddress?, SocketAddress?)[] { (null, WiFi), (WiFi, Cellular), (Cellular, null) }));
    }

    private sealed class Recorder : IIcePathListener
    {
        public List<SocketAddress> Verified { get; } = [];

        public List<(SocketAddress, bool)> Dropped { get; } = [];

        public List<(SocketAddress?, SocketAddress?)> Changes { get; } = [];

        public List<(SocketAddress, PathSwitchTrigger)> Selections { get; } = [];

        public int Lost { get; private set; }

        public void OnPathVerified(IcePath path) => Verified.Add(path.Address);

        public void OnPathDropped(IcePath path, bool consentExpired) => Dropped.Add((path.Address, consentExpired));

        public void OnSelectedPathChanged(IcePath? previous, IcePath? current) => Changes.Add((previous?.Address, current?.Address));

        public void OnPathSelected(IcePath path, PathSwitchTrigger trigger) => Selections.Add((path.Address, trigger));

        public void OnMediaPathLost() => Lost++;
    }
}
