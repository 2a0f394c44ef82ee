using System.Net.WebSockets;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Signaling;

/// <summary>Join tokens (JWT HS256) when a secret is configured.</summary>
public sealed class AuthTests
{
    private const string Secret = "test-secret-that-is-long-enough-for-hs256!!";
    private ManualClock _clock = null!;
    private SfuTestServer _server = null!;

    [SetUp]
    public async Task StartServer()
    {
        _clock = new ManualClock(DateTimeOffset.UtcNow);
        _server = await SfuTestServer.StartAsync(_clock, $"Sfu:Auth:TokenSecret={Secret}");
    }

    [TearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    private string Token(string room, string sub, TimeSpan? lifetime = null, bool publish = true, string secret = Secret, string? name = null,
        TimeSpan? validFromIn = null)
    {
        var claims = new Dictionary<string, object> { ["room"] = room, ["sub"] = sub, ["publish"] = publish, ["subscribe"] = true };
        if (name is not null) claims["name"] = name;
        var now = _clock.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            IssuedAt = now,
            NotBefore = now + (validFromIn ?? TimeSpan.Zero),
            Expires = now + (lifetime ?? TimeSpan.FromMinutes(5)),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256),
        });
    }

    private async Task<(System.Text.Json.JsonElement Response, TestClient Client)> JoinWith(string? token)
    {
        var client = await _server.ConnectAsync();
        var response = await client.RequestAsync(new { type = "join", room = "r", token });
        return (response, client);
    }

    [Test]
    public async Task JoinWithoutToken_IsUnauthorized_AndCloses4003()
    {
        var (response, client) = await JoinWith(null);
        await using var _ = client;
        Assert.Multiple(async () =>
        {
            Assert.That(response.ErrorCode(), Is.EqualTo("unauthorized"));
            Assert.That(await client.Closed, Is.EqualTo((WebSocketCloseStatus)4003));
        });
    }

    [Test]
    public async Task JoinWithValidToken_UsesIdentityAsPeerIdAndNameFromToken()
    {
        var (response, client) = await JoinWith(Token("r", "user-42", name: "Ada"));
        await using var _ = client;
        Assert.Multiple(() =>
        {
            Assert.That(response.Ok(), Is.True);
            Assert.That(response.Str("peerId"), Is.EqualTo("user-42"));
        });
    }

    [TestCase("other-room", Secret, TestName = "JoinWithTokenForAnotherRoom_IsUnauthorized")]
    [TestCase("r", "a-different-secret-that-is-long-enough!!", TestName = "JoinWithTokenSignedByAnotherKey_IsUnauthorized")]
    public async Task JoinWithBadToken_IsUnauthorized(string room, string secret)
    {
        var (response, client) = await JoinWith(Token(room, "u", secret: secret));
        await using var _ = client;
        Assert.That(response.ErrorCode(), Is.EqualTo("unauthorized"));
    }

    [Test]
    public async Task JoinWithExpiredToken_IsUnauthorized()
    {
        var token = Token("r", "u", lifetime: TimeSpan.FromMinutes(1));
        _clock.Advance(TimeSpan.FromMinutes(2));
        var (response, client) = await JoinWith(token);
        await using var _ = client;
        Assert.Multiple(() =>
        {
            Assert.That(response.ErrorCode(), Is.EqualTo("unauthorized"));
            Assert.That(response.GetProperty("error").Str("message"), Does.Contain("expired"));
        });
    }

    [Test]
    public async Task JoinWithGarbageToken_IsUnauthorized()
    {
        var (response, client) = await JoinWith("not.a.jwt");
        await using var _ = client;
        Assert.That(response.ErrorCode(), Is.EqualTo("unauthorized"));
    }

    [Test]
    public async Task JoinWithTokenNotValidYet_IsUnauthorized_UntilItsNotBefore()
    {
        var token = Token("r", "u", lifetime: TimeSpan.FromMinutes(30), validFromIn: TimeSpan.FromMinutes(10));
        var (early, earlyClient) = await JoinWith(token);
        await using var _ = earlyClient;
        _clock.Advance(TimeSpan.FromMinutes(10));
        var (inTime, inTimeClient) = await JoinWith(token);
        await using var __ = inTimeClient;
        Assert.Multiple(() =>
        {
            Assert.That(early.ErrorCode(), Is.EqualTo("unauthorized"));
            Assert.That(early.GetProperty("error").Str("message"), Does.Contain("not valid yet"));
            Assert.That(inTime.Ok(), Is.True, inTime.ToString());
        });
    }

    [TestCase("not.a.jwt", "not a well-formed JWT")]
    [TestCase(null, "bad signature")]
    public async Task RejectedToken_IsExplainedInTheProjectsWords_NotTheTokenLibrarys(string? token, string explanation)
    {
        var (response, client) = await JoinWith(token ?? Token("r", "u", secret: "a-different-secret-that-is-long-enough!!"));
        await using var _ = client;
        var message = response.GetProperty("error").Str("message");
        Assert.Multiple(() =>
        {
            Assert.That(message, Is.EqualTo($"join token rejected: {explanation}"));
            Assert.That(message, Does.Not.Contain("IDX"), "IdentityModel's error ids and details stay in the server");
        });
    }

    [Test]
    public void ServerWithTokenSecretTooShortForHs256_RefusesToStart_SayingWhy()
    {
        var failure = Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(
            () => SfuTestServer.StartAsync(null, "Sfu:Auth:TokenSecret=short"));
        Assert.That(failure!.Message, Does.Contain("Sfu:Auth:TokenSecret must be at least 32 bytes"));
    }

    [Test]
    public async Task SecondJoinWithSameIdentity_ReplacesThePeer()
    {
        var (_, observer) = await JoinWith(Token("r", "observer"));
        var (_, first) = await JoinWith(Token("r", "ada"));
        await using var _ = observer;
        await using var __ = first;
        await observer.NextEventAsync("peer-joined");

        var (secondJoin, second) = await JoinWith(Token("r", "ada"));
        await using var ___ = second;
        var kicked = await first.NextEventAsync("kicked");
        var left = await observer.NextEventAsync("peer-left");
        var joined = await observer.NextEventAsync("peer-joined");
        Assert.Multiple(async () =>
        {
            Assert.That(secondJoin.Ok(), Is.True);
            Assert.That(kicked.Str("reason"), Is.EqualTo("replaced"));
            Assert.That(await first.Closed, Is.EqualTo((WebSocketCloseStatus)4010));
            Assert.That(left.Str("reason"), Is.EqualTo("replaced"));
            Assert.That(joined.GetProperty("peer").Str("peerId"), Is.EqualTo("ada"));
        });
    }
}
