using Sfu.Media.Routing;
using Sfu.Media.Rtp;
using Sfu.Media.Sdp;

namespace Sfu.Tests.Media.Routing;

/// <summary>
/// A subscriber joins a running video: its consumer exists (the subscribe answer) while its transport is still doing
/// ICE and DTLS, and the publisher's packets keep arriving. A keyframe asked for then would arrive before the
/// subscriber could take it, and the one-per-interval throttle would then hold back the request that matters, made
/// when the transport connects: the subscriber's first picture would wait for the throttle, a second by default.
/// </summary>
[Category("Media")]
public sealed class JoiningSubscriberKeyframeTests
{
    private const uint Ssrc = 0x1000_0001;
    private static readonly TimeSpan FrameInterval = TimeSpan.FromMilliseconds(33);

    private SimulcastHarness _call = null!;
    private ushort _sequence = 100;
    private uint _timestamp = 9000;

    [TearDown]
    public async Task TearDown() => await _call.DisposeAsync();

    [Test]
    public async Task SubscriberStillConnecting_AsksForNoKeyframe_ThenForOneAtOnceWhenItConnects()
    {
        _call = SimulcastHarness.WithSubscriberConnectingLater(CodecNames.Vp8);

        await FrameAsync(keyframe: true);
        for (var i = 0; i < 3; i++) await FrameAsync(keyframe: false);
        Assert.That(_call.TakePublisherPlis(), Is.Empty, "nothing asked for while the subscriber cannot receive");
        Assert.That(_call.TakeSubscriberRtp(), Is.Empty);

        // Well inside the throttle's interval after the packets above: the request must not be held back.
        await _call.OnWorkerAsync(() =>
        {
            _call.Clock.Advance(TimeSpan.FromMilliseconds(20));
            _call.ConnectSubscriber();
        });
        Assert.That(_call.TakePublisherPlis(), Is.EqualTo(new[] { Ssrc }), "asked for at once when the transport connects");

        await FrameAsync(keyframe: false);
        Assert.That(_call.TakeSubscriberRtp(), Is.Empty, "a delta frame does not start the subscriber");
        Assert.That(_call.TakePublisherPlis(), Is.Empty, "the request is outstanding: the delta frame adds none");
        await FrameAsync(keyframe: true);
        Assert.That(_call.TakeSubscriberRtp().Select(p => p.Ssrc), Is.EqualTo(new[] { SimulcastHarness.ConsumerSsrc }), "the keyframe starts it");
    }

    [Test]
    public async Task ConnectedSubscribers_StillShareOneKeyframeRequestPerInterval()
    {
        _call = SimulcastHarness.WithSubscriberConnectingLater(CodecNames.Vp8);
        await FrameAsync(keyframe: true);
        await _call.OnWorkerAsync(_call.ConnectSubscriber);
        Assert.That(_call.TakePublisherPlis(), Has.Count.EqualTo(1));

        // The keyframe is lost on the way: the subscriber's PLIs and the waiting consumer's delta frames within the
        // interval add nothing; the outstanding request is repeated once the interval is over.
        for (var i = 0; i < 10; i++)
        {
            await _call.OnWorkerAsync(() => _call.Consumer.RequestKeyframe());
            await FrameAsync(keyframe: false);
        }
        Assert.That(_call.TakePublisherPlis(), Is.Empty);
        await _call.OnWorkerAsync(() =>
        {
            _call.Clock.Advance(KeyframeRequestThrottle.DefaultInterval);
            _call.Tick();
        });
        Assert.That(_call.TakePublisherPlis(), Is.EqualTo(new[] { Ssrc }));
    }

    private Task FrameAsync(bool keyframe) => _call.OnWorkerAsync(() =>
    {
        _call.Receive(Ssrc, rid: null, _sequence++, _timestamp, keyframe, startOfFrame: true, marker: true);
        _timestamp += 90 * 33;
        _call.Clock.Advance(FrameInterval);
    });
}
