using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Interop.Turn;

/// <summary>
/// TURN REST API credentials in the join and resume responses (PROTOCOL.md, "Extensions to v1"), checked against a
/// real coturn run with the same shared secret: it grants an allocation for them, and refuses a tampered one.
/// </summary>
public sealed class TurnCredentialTests
{
    private const string Secret = "turn-shared-secret-for-tests";

    [Test]
    public async Task JoinResponse_CarriesTurnCredentials_ThatCoturnAccepts_AndRefusesWhenTampered()
    {
        using var coturn = await CoturnServer.StartAsync(IPAddress.Loopback, Secret);
        await using var server = await SfuTestServer.StartAsync(null, $"Sfu:Turn:Urls:0={coturn.TcpUrl}", $"Sfu:Turn:Secret={Secret}");
        var (client, join) = await server.JoinAsync("r", "ada");
        await using var _ = client;

        var servers = join.GetProperty("iceServers");
        Assert.That(servers.GetArrayLength(), Is.EqualTo(1));
        var turn = servers[0];
        var username = turn.GetProperty("username").GetString()!;
        var credential = turn.GetProperty("credential").GetString()!;
        var peerId = join.Str("peerId");
        Assert.Multiple(() =>
        {
            Assert.That(turn.GetProperty("urls")[0].GetString(), Is.EqualTo(coturn.TcpUrl));
            Assert.That(username, Does.EndWith(":" + peerId));
            var expiry = DateTimeOffset.FromUnixTimeSeconds(long.Parse(username.Split(':')[0], System.Globalization.CultureInfo.InvariantCulture));
            Assert.That(expiry - DateTimeOffset.UtcNow, Is.EqualTo(TimeSpan.FromHours(24)).Within(TimeSpan.FromMinutes(1)));
        });

        var granted = await AllocateAsync(coturn, username, credential);
        Assert.That(granted["relayed"]?[0]?.GetValue<string>(), Is.EqualTo(coturn.Address.ToString()), $"{granted}\n{coturn.Log()}");

        var tampered = await AllocateAsync(coturn, username, credential[1..] + credential[0]);
        Assert.That(tampered["error"]?.GetValue<string>(), Does.Contain("401"), tampered.ToString());
        var otherPeer = await AllocateAsync(coturn, username + "x", credential);
        Assert.That(otherPeer["error"]?.GetValue<string>(), Does.Contain("401"), "the password is bound to the username");
    }

    [Test]
    public async Task Credentials_AreExpiryColonPeer_SignedWithHmacSha1OfTheSecret_AndResumeRenewsThem()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await using var server = await SfuTestServer.StartAsync(clock, "Sfu:Turn:Urls:0=turn:192.0.2.7:3478?transport=tcp",
            "Sfu:Turn:Urls:1=turns:turn.example.org:443?transport=tcp", $"Sfu:Turn:Secret={Secret}", "Sfu:Turn:CredentialTtlSeconds=600");
        var (client, join) = await server.JoinAsync("r");
        await using var _ = client;
        var turn = join.GetProperty("iceServers")[0];
        var expected = $"{clock.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds()}:{join.Str("peerId")}";
        Assert.Multiple(() =>
        {
            Assert.That(turn.GetProperty("urls").EnumerateArray().Select(u => u.GetString()),
                Is.EqualTo(new[] { "turn:192.0.2.7:3478?transport=tcp", "turns:turn.example.org:443?transport=tcp" }));
            Assert.That(turn.Str("username"), Is.EqualTo(expected));
            Assert.That(turn.Str("credential"), Is.EqualTo(Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(expected)))));
        });

        clock.Advance(TimeSpan.FromSeconds(2));
        await using var resumed = await server.ConnectAsync();
        var response = await resumed.RequestAsync(new { type = "resume", sessionId = join.Str("sessionId"), resumeToken = join.Str("resumeToken"), lastSeq = 0 });
        Assert.That(response.GetProperty("iceServers")[0].Str("username"), Is.EqualTo($"{clock.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds()}:{join.Str("peerId")}"));
    }

    [Test]
    public async Task WithoutTurnServers_TheJoinResponseHasNoIceServers()
    {
        await using var server = await SfuTestServer.StartAsync();
        var (client, join) = await server.JoinAsync("r");
        await using var _ = client;
        Assert.That(join.TryGetProperty("iceServers", out var _), Is.False);
    }

    [Test]
    public void TurnUrlsWithoutASecret_StopTheServerAtStartUp()
    {
        var failure = Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(async () =>
        {
            await using var server = await SfuTestServer.StartAsync(null, "Sfu:Turn:Urls:0=turn:192.0.2.7:3478");
        });
        Assert.That(failure!.Message, Does.Contain("Sfu:Turn:Secret"));
    }

    private static async Task<JsonObject> AllocateAsync(CoturnServer coturn, string username, string password)
    {
        var start = new ProcessStartInfo(Sfu.Tests.Interop.Aiortc.AiortcPeer.Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { RepositoryFiles.PathOf("Sfu.Tests", "Interop", "Turn", "turn_allocate.py"), coturn.Address.ToString(), coturn.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), username, password, "tcp" })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        return line is null ? throw new InvalidOperationException($"turn_allocate.py printed nothing: {await stderr}") : JsonNode.Parse(line)!.AsObject();
    }
}
