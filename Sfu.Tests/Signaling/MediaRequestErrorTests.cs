using Sfu.Tests.Infrastructure;
using Sfu.Tests.Media.Sdp;

namespace Sfu.Tests.Signaling;

/// <summary>The media requests' errors, provoked one by one against the real server.</summary>
public sealed class MediaRequestErrorTests : ServerTest
{
    [Test]
    public async Task PublishingMoreTracksThanTheLimit_IsBadRequest_CreatesNoTransport_AndOthersSeeNothing()
    {
        var (observer, _) = await Server.JoinAsync("r", "observer");
        await using var _ = observer;
        var (client, _) = await Server.JoinAsync("r", "greedy");
        await using var __ = client;
        await observer.NextEventAsync("peer-joined");

        var response = await client.RequestAsync(new { type = "publish", sdp = OfferWithAudioLines(11) });
        var ping = await observer.RequestAsync(new { type = "ping" });
        var metrics = await MetricsSnapshot.ScrapeAsync(Server);
        Assert.Multiple(() =>
        {
            Assert.That(response.ErrorCode(), Is.EqualTo("bad_request"));
            Assert.That(response.GetProperty("error").Str("message"), Does.Contain("at most 10 tracks"));
            Assert.That(metrics["sfu_media_transports"], Is.Zero);
            Assert.That(metrics["sfu_limit_rejections_total{limit=\"tracks\"}"], Is.EqualTo(1));
            Assert.That(observer.Unread(), Is.Empty, "no track-published, no subscribe-offer");
        });
        Assert.That((await client.RequestAsync(new { type = "publish", sdp = OfferWithAudioLines(10) })).Ok(), Is.True, "ten are fine");
    }

    /// <summary>Chrome's send-only offer with its audio line repeated <paramref name="lines"/> times (mids 0..n-1, all bundled).</summary>
    private static string OfferWithAudioLines(int lines)
    {
        var sdp = SdpFixtures.Load(SdpFixtures.ChromeSendOnly).Replace("\r\n", "\n");
        var sections = sdp.Split("\nm=");
        // Without its a=ssrc lines: each copy is a track of its own, learned by its mid.
        var audio = string.Join("\n", ("m=" + sections.Single(section => section.StartsWith("audio", StringComparison.Ordinal)))
            .Split('\n').Where(l => !l.StartsWith("a=ssrc", StringComparison.Ordinal))) + "\n";
        var session = sections[0].Split('\n').Where(l => !l.StartsWith("a=group:BUNDLE", StringComparison.Ordinal));
        var offer = new System.Text.StringBuilder(string.Join("\r\n", session).TrimEnd() + "\r\n");
        offer.Append("a=group:BUNDLE ").AppendJoin(' ', Enumerable.Range(0, lines)).Append("\r\n");
        var mid = System.Text.RegularExpressions.Regex.Match(audio, "a=mid:(\\S+)").Groups[1].Value;
        for (var i = 0; i < lines; i++)
            offer.Append(audio.Replace($"a=mid:{mid}\n", $"a=mid:{i}\n").TrimEnd().Replace("\n", "\r\n")).Append("\r\n");
        return offer.ToString();
    }

    [Test]
    public async Task UnpublishingATrackYouDoNotPublish_IsNotFound()
    {
        var (client, _) = await Server.JoinAsync("r");
        await using var _ = client;
        var response = await client.RequestAsync(new { type = "unpublish", trackId = "nobody:0" });
        Assert.That(response.ErrorCode(), Is.EqualTo("not_found"));
    }

    [Test]
    public async Task SubscribingToAnUnknownTrack_IsNotFound()
    {
        var (client, _) = await Server.JoinAsync("r");
        await using var _ = client;
        var response = await client.RequestAsync(new { type = "subscribe", trackIds = new[] { "ghost:1" } });
        Assert.That(response.ErrorCode(), Is.EqualTo("not_found"));
    }

    [Test]
    public async Task RestartIceBeforeThereIsASubscribeTransport_IsNotFound()
    {
        var (client, _) = await Server.JoinAsync("r");
        await using var _ = client;
        var response = await client.RequestAsync(new { type = "restart-ice", transport = "subscribe" });
        Assert.That(response.ErrorCode(), Is.EqualTo("not_found"));
    }

    [TestCase("v=0\r\nnot sdp at all\r\n", TestName = "PublishWithMalformedSdp_IsBadRequest")]
    [TestCase("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", TestName = "PublishWithoutMedia_IsBadRequest")]
    public async Task PublishWithUnusableSdp_IsBadRequest(string sdp)
    {
        var (client, _) = await Server.JoinAsync("r");
        await using var _ = client;
        var response = await client.RequestAsync(new { type = "publish", sdp });
        Assert.Multiple(() =>
        {
            Assert.That(response.ErrorCode(), Is.EqualTo("bad_request"));
            Assert.That(response.GetProperty("error").Str("message"), Does.StartWith("sdp:"));
        });
    }

    [Test]
    public async Task SubscribeAnswerWithoutAPendingOffer_IsBadRequest()
    {
        var (client, _) = await Server.JoinAsync("r");
        await using var _ = client;
        var response = await client.RequestAsync(new { type = "subscribe-answer", sdp = SdpFixtures.Load(SdpFixtures.ChromeSubscribeAnswer), version = 3 });
        Assert.That(response.ErrorCode(), Is.EqualTo("bad_request"));
    }

    [Test]
    public async Task PublishWithATokenThatForbidsIt_IsForbidden()
    {
        const string secret = "a-secret-that-is-long-enough-for-hs256-signing!";
        await using var server = await SfuTestServer.StartAsync(null, $"Sfu:Auth:TokenSecret={secret}");
        var token = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { ["room"] = "r", ["sub"] = "viewer", ["publish"] = false },
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(
                new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(secret)),
                Microsoft.IdentityModel.Tokens.SecurityAlgorithms.HmacSha256),
        });
        await using var client = await server.ConnectAsync();
        Assert.That((await client.RequestAsync(new { type = "join", room = "r", token })).Ok(), Is.True);
        var response = await client.RequestAsync(new { type = "publish", sdp = SdpFixtures.Load(SdpFixtures.ChromeSendOnly) });
        Assert.That(response.ErrorCode(), Is.EqualTo("forbidden"));
    }
}
