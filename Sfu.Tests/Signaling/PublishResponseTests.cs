using System.Text.Json;
using Sfu.Tests.Infrastructure;
using Sfu.Tests.Media.Sdp;

namespace Sfu.Tests.Signaling;

/// <summary>
/// The <c>publish</c> response names the publisher's own tracks (the others learn them from <c>track-published</c>),
/// so a client can unpublish what it published.
/// </summary>
public sealed class PublishResponseTests : ServerTest
{
    [Test]
    public async Task PublishResponse_ListsTheTracks_AsTheOthersSeeThemPublished()
    {
        var (alice, _) = await Server.JoinAsync("r", "alice");
        await using var _ = alice;
        var (bob, _) = await Server.JoinAsync("r", "bob");
        await using var __ = bob;

        var response = await bob.RequestAsync(new { type = "publish", sdp = SdpFixtures.Load(SdpFixtures.ChromeSendOnly) });
        var seenByAlice = new[] { await alice.NextEventAsync("track-published"), await alice.NextEventAsync("track-published") }
            .Select(e => Describe(e.GetProperty("track")));

        Assert.That(response.Ok(), Is.True, response.ToString());
        Assert.That(Tracks(response), Is.EquivalentTo(seenByAlice));
        Assert.That(Tracks(response).Select(t => t.Kind), Is.EquivalentTo(new[] { "audio", "video" }));
    }

    [Test]
    public async Task Renegotiation_ListsEveryTrackStillPublished_NotOnlyNewOnes()
    {
        var (bob, _) = await Server.JoinAsync("r", "bob");
        await using var _ = bob;
        var offer = SdpFixtures.Load(SdpFixtures.ChromeSendOnly);
        var first = await bob.RequestAsync(new { type = "publish", sdp = offer });

        var again = await bob.RequestAsync(new { type = "publish", sdp = offer });
        var audio = Tracks(first).Single(t => t.Kind == "audio").TrackId;
        var unpublished = await bob.RequestAsync(new { type = "unpublish", trackId = audio });

        Assert.That(again.Ok(), Is.True, again.ToString());
        Assert.That(Tracks(again), Is.EquivalentTo(Tracks(first)), "the same tracks, with the same ids");
        Assert.That(unpublished.Ok(), Is.True, "the id from the response is the one unpublish takes");
    }

    private static List<(string TrackId, string Kind, string Mid)> Tracks(JsonElement response) =>
        [.. response.GetProperty("tracks").EnumerateArray().Select(Describe)];

    private static (string TrackId, string Kind, string Mid) Describe(JsonElement track) =>
        (track.Str("trackId"), track.Str("kind"), track.Str("mid"));
}
