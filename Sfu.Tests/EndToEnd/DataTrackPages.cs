namespace Sfu.Tests.EndToEnd;

/// <summary>
/// Two demo pages that publish data tracks with the browser SDK and receive each other's, as the data channel tests in
/// and out of network namespaces share them: each page publishes 'reliable' (ordered) and 'lossy' (unordered, no
/// retransmissions) and records what arrives on the other's, by label.
/// </summary>
internal static class DataTrackPages
{
    public const int Messages = 10_000;

    // Installed before anything is published: collects what arrives on each received data track, by label.
    public const string CollectScript = """
        () => {
          window.dc = { received: { reliable: [], lossy: [] }, tracks: [] };
          window.demo.client.on('data-track', ({ label }) => window.dc.tracks.push(label));
          window.demo.client.on('data', ({ label, data }) => window.dc.received[label]?.push(data));
        }
        """;

    // Sends `count` numbered messages on one of this page's data tracks, pacing on the channel's own buffer, and
    // pausing `pauseMs` after every hundred when asked (to spread the messages over time).
    public const string SendScript = """
        async ([label, count, pauseMs]) => {
          const channel = window.dc[label];
          for (let i = 0; i < count; i++) {
            while (channel.bufferedAmount > 256 * 1024) await new Promise(resolve => setTimeout(resolve, 5));
            channel.send(String(i));
            if (pauseMs > 0 && i % 100 === 99) await new Promise(resolve => setTimeout(resolve, pauseMs));
          }
        }
        """;

    /// <summary>Two joined pages (opened by <paramref name="open"/> from a label), each publishing 'reliable' and 'lossy' and receiving the other's.</summary>
    public static async Task<(SdkPage Alice, SdkPage Bob)> TwoPagesAsync(Func<string, Task<SdkPage>> open)
    {
        var alice = await open("alice");
        var bob = await open("bob");
        foreach (var page in new[] { alice, bob })
        {
            await page.WaitForStateAsync("connected");
            await page.EvaluateAsync<object?>(CollectScript);
        }
        foreach (var page in new[] { alice, bob })
        {
            await page.CallAsync("window.demo.client.publishData('reliable').then(c => { window.dc.reliable = c; })");
            await page.CallAsync("window.demo.client.publishData('lossy', { ordered: false, maxRetransmits: 0 }).then(c => { window.dc.lossy = c; })");
            await page.WaitForAsync("window.dc.reliable.isOpen && window.dc.lossy.isOpen", "its own channels open");
        }
        foreach (var page in new[] { alice, bob })
            await page.WaitForAsync("window.dc.tracks.includes('reliable') && window.dc.tracks.includes('lossy')", "the server's channels for the other page's tracks", TimeSpan.FromSeconds(30));
        return (alice, bob);
    }

    /// <summary>Each page received the other's <see cref="Messages"/> reliable messages, each once, in order.</summary>
    public static async Task AssertAllReceivedInOrderAsync(params SdkPage[] pages)
    {
        foreach (var page in pages)
            await page.WaitForAsync($"window.dc.received.reliable.length >= {Messages}", $"{Messages} reliable messages", TimeSpan.FromSeconds(90));
        foreach (var page in pages)
        {
            var inOrder = await page.EvaluateAsync<bool>($"() => window.dc.received.reliable.length === {Messages} && window.dc.received.reliable.every((m, i) => m === String(i))");
            Assert.That(inOrder, Is.True, $"{page.Label} received every message once, in order");
        }
    }
}
