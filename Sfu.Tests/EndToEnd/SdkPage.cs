using System.Text.Json;
using Microsoft.Playwright;

namespace Sfu.Tests.EndToEnd;

/// <summary>
/// The demo page (Sfu.Server/wwwroot/index.html) as a test sees it: the SDK client at <c>window.demo.client</c>
/// and everything it reported at <c>window.demo.events</c> (<c>{name, detail}</c>, in order).
/// </summary>
public sealed class SdkPage(string label, IPage page)
{
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(15);

    /// <summary>
    /// JavaScript that defines <c>selectedPath(stats)</c>, for the top of a getStats script: given a connection's
    /// reports as an array, the candidate pair its transport selected and that pair's two candidates,
    /// <c>{ pair, local, remote }</c>, each null while there is none.
    /// </summary>
    public const string SelectedPathFunction = """
        const selectedPath = (stats) => {
          const byId = new Map(stats.map(s => [s.id, s]));
          const transport = stats.find(s => s.type === 'transport' && s.selectedCandidatePairId);
          const pair = transport ? byId.get(transport.selectedCandidatePairId) ?? null : null;
          return { pair, local: pair ? byId.get(pair.localCandidateId) ?? null : null, remote: pair ? byId.get(pair.remoteCandidateId) ?? null : null };
        };
        """;

    public string Label { get; } = label;

    public IPage Page { get; } = page;

    /// <summary>
    /// Waits until the JavaScript <paramref name="condition"/> holds. Fails at once when the page reported an
    /// error (a rejected join or publish), and on timeout shows what the page's client saw.
    /// </summary>
    public async Task WaitForAsync(string condition, string what, TimeSpan? wait = null)
    {
        try
        {
            await Page.WaitForFunctionAsync(
                $"() => window.demo !== undefined && (window.demo.error !== null || ({condition}))",
                null,
                new PageWaitForFunctionOptions { Timeout = (float)(wait ?? DefaultWait).TotalMilliseconds, PollingInterval = 100 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{Label}: timed out waiting for {what}. Events: {await EventsJsonAsync()}");
        }
        var error = await Page.EvaluateAsync<string?>("() => window.demo.error");
        if (error is not null) Assert.Fail($"{Label}: the page failed ({error}) while waiting for {what}. Events: {await EventsJsonAsync()}");
    }

    public Task WaitForStateAsync(string state, string? reason = null) =>
        WaitForAsync(
            reason is null
                ? $"window.demo.client?.state === {Js(state)}"
                : $"window.demo.events.some(e => e.name === 'state' && e.detail.state === {Js(state)} && e.detail.reason === {Js(reason)})",
            reason is null ? $"state {state}" : $"state {state} ({reason})");

    public Task WaitForEventAsync(string name, string detailCondition, string what) =>
        WaitForAsync($"window.demo.events.some(e => e.name === {Js(name)} && ({detailCondition}))", what);

    /// <summary>The details of every event called <paramref name="name"/> so far.</summary>
    public async Task<List<JsonElement>> EventsAsync(string name)
    {
        var events = await Page.EvaluateAsync<JsonElement>($"() => window.demo.events.filter(e => e.name === {Js(name)}).map(e => e.detail)");
        return [.. events.EnumerateArray()];
    }

    public async Task<(string State, string? Reason)[]> StatesAsync() =>
        [.. (await EventsAsync("state")).Select(d => (d.GetProperty("state").GetString()!, d.GetProperty("reason").GetString()))];

    public Task<string> PeerIdAsync() => Page.EvaluateAsync<string>("() => window.demo.client.peerId");

    public Task<string> SessionIdAsync() => Page.EvaluateAsync<string>("() => window.demo.client.sessionId");

    public Task<T> EvaluateAsync<T>(string expression) => Page.EvaluateAsync<T>(expression);

    /// <summary>
    /// Evaluates <paramref name="expression"/> (e.g. <c>window.demo.client.leave()</c>) and waits for its promise,
    /// at most <see cref="DefaultWait"/>: a promise that never settles fails the test instead of hanging it.
    /// </summary>
    public async Task<JsonElement?> CallAsync(string expression)
    {
        var ms = (int)DefaultWait.TotalMilliseconds;
        return await Page.EvaluateAsync($$"""
            async () => {
              let timer;
              const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('no outcome after {{ms}} ms: ' + {{Js(expression)}})), {{ms}}); });
              try { return (await Promise.race([({{expression}}), timeout])) ?? null; } finally { clearTimeout(timer); }
            }
            """);
    }

    private async Task<string> EventsJsonAsync()
    {
        try
        {
            return (await Page.EvaluateAsync<JsonElement>("() => window.demo?.events ?? []")).GetRawText();
        }
        catch (PlaywrightException ex)
        {
            return $"(unreadable: {ex.Message})";
        }
    }

    /// <summary>A C# value as a JavaScript literal.</summary>
    public static string Js(object? value) => JsonSerializer.Serialize(value);
}
