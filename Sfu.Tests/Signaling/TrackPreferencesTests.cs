using System.Text.Json;
using Sfu.Tests.Infrastructure;
using Sfu.Tests.Media.Sdp;

namespace Sfu.Tests.Signaling;

/// <summary><c>set-track-preferences</c> against the real server: a subscriber of a Chrome simulcast track (q, h, f).</summary>
public sealed class TrackPreferencesTests : ServerTest
{
    private TestClient _publisher = null!;
    private TestClient _subscriber = null!;
    private string _videoTrackId = null!;

    [SetUp]
    public async Task PublishSimulcastAndSubscribe()
    {
        (_publisher, _) = await Server.JoinAsync("r", "publisher");
        (_subscriber, _) = await Server.JoinAsync("r", "subscriber");
        var published = await _publisher.RequestAsync(new { type = "publish", sdp = SdpFixtures.Load(SdpFixtures.ChromeSimulcast) });
        Assert.That(published.Ok(), Is.True);
        var video = await _subscriber.TakeAsync(
            m => m.Str("event") == "track-published" && m.GetProperty("track").Str("kind") == "video", "the video track is announced");
        var track = video.GetProperty("track");
        _videoTrackId = track.Str("trackId")!;
        Assert.That(track.GetProperty("simulcast").EnumerateArray().Select(r => r.GetString()), Is.EqualTo(new[] { "q", "h", "f" }));
        await _subscriber.NextEventAsync("subscribe-offer");
    }

    [TearDown]
    public async Task Close()
    {
        await _publisher.DisposeAsync();
        await _subscriber.DisposeAsync();
    }

    [Test]
    public async Task CappingAReceivedTrack_IsAccepted()
    {
        var capped = await _subscriber.RequestAsync(new { type = "set-track-preferences", trackId = _videoTrackId, maxLayer = 0 });
        var sized = await _subscriber.RequestAsync(new { type = "set-track-preferences", trackId = _videoTrackId, maxWidth = 320, maxHeight = 180 });
        var temporal = await _subscriber.RequestAsync(new { type = "set-track-preferences", trackId = _videoTrackId, maxTemporalLayer = 1 });
        var paused = await _subscriber.RequestAsync(new { type = "set-track-preferences", trackId = _videoTrackId, paused = true });

        Assert.That(new[] { capped.Ok(), sized.Ok(), temporal.Ok(), paused.Ok() }, Is.All.True);
    }

    [Test]
    public async Task ATrackNobodyPublishes_IsNotFound()
    {
        var response = await _subscriber.RequestAsync(new { type = "set-track-preferences", trackId = "ghost:1", maxLayer = 0 });
        Assert.That(response.ErrorCode(), Is.EqualTo("not_found"));
    }

    [Test]
    public async Task YourOwnTrack_IsNotFound_BecauseYouDoNotReceiveIt()
    {
        var response = await _publisher.RequestAsync(new { type = "set-track-preferences", trackId = _videoTrackId, maxLayer = 0 });
        Assert.That(response.ErrorCode(), Is.EqualTo("not_found"));
    }

    [Test]
    public async Task ALayerTheTrackDoesNotHave_IsBadRequest()
    {
        var response = await _subscriber.RequestAsync(new { type = "set-track-preferences", trackId = _videoTrackId, maxLayer = 3 });
        Assert.Multiple(() =>
        {
            Assert.That(response.ErrorCode(), Is.EqualTo("bad_request"));
            Assert.That(response.GetProperty("error").Str("message"), Does.Contain("3 layer(s)"));
        });
    }

    [TestCase("{\"maxLayer\":-1}", TestName = "NegativeLayer_IsBadRequest")]
    [TestCase("{\"maxLayer\":\"high\"}", TestName = "LayerThatIsNotANumber_IsBadRequest")]
    [TestCase("{\"maxWidth\":0}", TestName = "ZeroWidth_IsBadRequest")]
    [TestCase("{\"maxHeight\":100000}", TestName = "HugeHeight_IsBadRequest")]
    [TestCase("{\"paused\":\"yes\"}", TestName = "PausedThatIsNotABoolean_IsBadRequest")]
    [TestCase("{\"maxTemporalLayer\":4}", TestName = "TemporalLayerAboveThree_IsBadRequest")]
    public async Task MalformedPreferences_AreBadRequest(string fields)
    {
        var request = JsonSerializer.Deserialize<Dictionary<string, object>>(fields)!;
        request["type"] = "set-track-preferences";
        request["trackId"] = _videoTrackId;
        var response = await _subscriber.RequestAsync(request);
        Assert.That(response.ErrorCode(), Is.EqualTo("bad_request"));
    }

    [Test]
    public async Task MissingTrackId_IsBadRequest()
    {
        var response = await _subscriber.RequestAsync(new { type = "set-track-preferences", maxLayer = 0 });
        Assert.That(response.ErrorCode(), Is.EqualTo("bad_request"));
    }
}
