using System.Net;
using System.Text.RegularExpressions;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Server;

/// <summary>
/// The server serves the browser SDK package (clients/browser) with CORS, so a page on another origin can import
/// it; the demo page, the admin API and metrics stay closed to other origins.
/// </summary>
public sealed partial class SdkFilesTests
{
    private const string OtherSite = "https://app.example.com";

    [Test]
    public async Task EverySdkModuleAndTheTypes_AreServedAsInThePackage_ToAnyOriginByDefault()
    {
        await using var server = await SfuTestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.HttpBase };
        var entry = await File.ReadAllTextAsync(RepositoryFiles.PathOf("clients", "browser", "sfu-client.js"));
        string[] modules = ["sfu-client.js", .. ImportedModule().Matches(entry).Select(m => m.Groups[1].Value)];
        Assert.That(modules, Has.Length.GreaterThan(1), "the entry point imports the SDK's other modules");

        foreach (var file in modules.Append("sfu-client.d.ts"))
        {
            using var response = await GetAsync(http, "/" + file, OtherSite);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), file);
            Assert.That(AllowedOrigin(response), Is.EqualTo("*"), file);
            Assert.That(await response.Content.ReadAsStringAsync(),
                Is.EqualTo(await File.ReadAllTextAsync(RepositoryFiles.PathOf("clients", "browser", file))), $"{file} is the package's file");
            Assert.That(response.Content.Headers.ContentType!.MediaType,
                Is.EqualTo(file.EndsWith(".d.ts", StringComparison.Ordinal) ? "application/typescript" : "text/javascript"), file);
        }
    }

    [Test]
    public async Task ARevalidatedSdkFile_StillAllowsTheOrigin()
    {
        await using var server = await SfuTestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.HttpBase };
        using var first = await GetAsync(http, "/sfu-client.js", OtherSite);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/sfu-client.js");
        request.Headers.Add("Origin", OtherSite);
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var revalidated = await http.SendAsync(request);

        Assert.That(revalidated.StatusCode, Is.EqualTo(HttpStatusCode.NotModified));
        Assert.That(AllowedOrigin(revalidated), Is.EqualTo("*"));
    }

    [TestCase("/")]
    [TestCase("/index.html")]
    [TestCase("/metrics")]
    [TestCase("/admin/rooms")]
    [TestCase("/healthz")]
    public async Task WhatIsNotTheSdk_AllowsNoOtherOrigin(string path)
    {
        await using var server = await SfuTestServer.StartAsync(null, "Sfu:Admin:ApiKey=key");
        using var http = new HttpClient { BaseAddress = server.HttpBase };
        http.DefaultRequestHeaders.Add("X-Api-Key", "key");

        using var response = await GetAsync(http, path, OtherSite);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the request itself is served");
        Assert.That(AllowedOrigin(response), Is.Null);
    }

    [Test]
    public async Task ConfiguredOrigins_AreAllowed_OthersAreNot()
    {
        await using var server = await SfuTestServer.StartAsync(null, $"Sfu:Sdk:AllowedOrigins={OtherSite}, https://second.example/");
        using var http = new HttpClient { BaseAddress = server.HttpBase };

        using var allowed = await GetAsync(http, "/sfu-client.js", OtherSite);
        using var second = await GetAsync(http, "/sfu-client.js", "https://second.example");
        using var refused = await GetAsync(http, "/sfu-client.js", "https://elsewhere.example");

        Assert.Multiple(() =>
        {
            Assert.That(AllowedOrigin(allowed), Is.EqualTo(OtherSite));
            Assert.That(AllowedOrigin(second), Is.EqualTo("https://second.example"));
            Assert.That(AllowedOrigin(refused), Is.Null);
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the browser, not the server, enforces CORS");
            Assert.That(allowed.Headers.Vary, Does.Contain("Origin"), "one cached copy per origin");
            Assert.That(refused.Headers.Vary, Does.Contain("Origin"));
        });
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient http, string path, string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Origin", origin);
        return await http.SendAsync(request);
    }

    private static string? AllowedOrigin(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) ? string.Join(",", values) : null;

    [GeneratedRegex("from '\\./([^']+)'")]
    private static partial Regex ImportedModule();
}
