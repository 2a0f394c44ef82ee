using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Sfu.Tests.Infrastructure;
using static Sfu.Tests.EndToEnd.SdkPage;

namespace Sfu.Tests.EndToEnd;

/// <summary>
/// The demo page as people see it, in Chromium: names on tiles, the interrupted badge, the connection state, mute
/// and device controls, the layer each video is received at, the message of an insecure context, and joining again after a failure or a kick. Each test saves
/// screenshots under TestResults/screenshots and asserts on the text a person would read.
/// </summary>
[Category("Media")]
public sealed class DemoPageTests : BrowserTestBase
{
    private const string MediaOnLoopback = "Sfu:Media:AnnouncedAddress=127.0.0.1";

    [Test]
    public async Task TwoPeopleInACall_SeeEachOthersNamesAndVideo_AndTheState()
    {
        await StartServerAsync(MediaOnLoopback);
        var alice = await OpenAsync("alice", "call-1", publish: true);
        await alice.WaitForEventAsync("published", "true", "alice's publish");
        var bob = await OpenAsync("bob", "call-1", publish: true);
        await bob.WaitForEventAsync("published", "true", "bob's publish");

        foreach (var page in new[] { alice, bob })
        {
            await page.WaitForAsync("[...document.querySelectorAll('.tile video')].length === 2 && [...document.querySelectorAll('.tile video')].every(v => v.videoWidth > 0)",
                "both tiles playing video");
        }
        await ScreenshotAsync(alice, "call-alice");
        await ScreenshotAsync(bob, "call-bob");

        Assert.Multiple(async () =>
        {
            Assert.That(await TileNamesAsync(alice), Is.EqualTo(new[] { "alice (you)", "bob" }));
            Assert.That(await TileNamesAsync(bob), Is.EqualTo(new[] { "bob (you)", "alice" }));
            Assert.That(await TextAsync(alice, "#state"), Is.EqualTo("connected (join-success)"));
            Assert.That(await TextAsync(bob, "#state"), Is.EqualTo("connected (join-success)"));
            Assert.That(await alice.Page.Locator(".tile .badge").First.IsVisibleAsync(), Is.False, "nobody is interrupted");
            Assert.That(await TextAsync(alice, "#quality"), Does.StartWith("Quality: good"));
        });
    }

    [Test]
    public async Task APeerWhoseSignalingIsCut_ShowsTheInterruptedBadgeToTheOthers_UntilItIsBack()
    {
        await StartServerAsync(MediaOnLoopback, "Sfu:Signaling:InterruptedAfterMs=1500");
        var alice = await OpenAsync("alice", "call-2", publish: true);
        await alice.WaitForEventAsync("published", "true", "alice's publish");
        // Bob has no media, so once his signaling is cut the server hears nothing of him at all (media and STUN
        // would keep him alive): he publishes nothing and never gets the offer to receive alice.
        SignalingTap? tap = null;
        var bob = await OpenAsync("bob", "call-2", beforeLoad: async page =>
        {
            tap = await SignalingTap.InstallAsync(page);
            tap.LoseFromServer = IsSubscribeOffer;
        });
        await bob.WaitForStateAsync("connected");
        var bobId = await bob.PeerIdAsync();
        var bobsBadge = alice.Page.Locator($".tile[data-peer-id={Js(bobId)}] .badge");
        await alice.Page.Locator($".tile[data-peer-id={Js(bobId)}] .name").WaitForAsync();

        tap!.LoseFromPage = _ => true;
        tap.LoseFromServer = _ => true;
        await bobsBadge.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible });
        await bob.WaitForStateAsync("reconnecting");
        await ScreenshotAsync(alice, "interrupted-seen-by-alice");
        await ScreenshotAsync(bob, "interrupted-bob");

        Assert.Multiple(async () =>
        {
            Assert.That(await bobsBadge.InnerTextAsync(), Is.EqualTo("interrupted · reconnecting"));
            Assert.That(await TileNamesAsync(alice), Is.EqualTo(new[] { "alice (you)", "bob" }), "bob is still in the room");
            Assert.That(await TextAsync(bob, "#state"), Does.StartWith("reconnecting ("));
        });

        tap.LoseFromPage = _ => false;
        tap.LoseFromServer = IsSubscribeOffer;
        await bobsBadge.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Hidden, Timeout = 15_000 });
        await bob.WaitForStateAsync("connected", "rejoin-success");
        Assert.That(await TextAsync(bob, "#state"), Is.EqualTo("connected (rejoin-success)"));
    }

    [Test]
    public async Task OpenedOverPlainHttpByName_SaysWhyThereIsNoCamera_AndStillJoinsToWatch()
    {
        await StartServerAsync();
        var carol = await OpenAsync("carol", "call-3", publish: true, host: BrowserFixture.InsecureHost);
        await carol.WaitForStateAsync("connected");
        await ScreenshotAsync(carol, "insecure-context");

        var banner = carol.Page.Locator("#insecure");
        Assert.Multiple(async () =>
        {
            Assert.That(await carol.EvaluateAsync<bool>("() => window.isSecureContext"), Is.False, "the premise: no secure context");
            Assert.That(await banner.IsVisibleAsync(), Is.True);
            var text = await banner.InnerTextAsync();
            Assert.That(text, Does.Contain("Camera and microphone are not available"));
            Assert.That(text, Does.Contain("HTTPS").And.Contain("localhost"));
            Assert.That(text, Does.Contain($"http://{BrowserFixture.InsecureHost}:{Server.HttpBase.Port}"), "names the origin it was opened by");
            Assert.That(text, Does.Contain($"http://localhost:{Server.HttpBase.Port}/"), "and the one that would work");
            Assert.That(await carol.Page.Locator("#publish").IsDisabledAsync(), Is.True);
            Assert.That(await TextAsync(carol, "#state"), Is.EqualTo("connected (join-success)"));
            Assert.That(await carol.EventsAsync("error"), Is.Empty, "no getUserMedia crash");
        });
    }

    [Test]
    public async Task AJoinThatFails_LeavesThePageReadyToJoinAgain()
    {
        await StartServerAsync("Sfu:Signaling:MaxPeersPerRoom=1");
        var alice = await OpenAsync("alice", "call-4");
        await alice.WaitForStateAsync("connected");
        var bob = await Browser.NewPageAsync("bob");
        await bob.GotoAsync(new Uri(Server.HttpBase, "/?room=call-4&name=bob&publish=0&autostart=1").ToString());

        await bob.Locator("#problem").GetByText("Could not join").WaitForAsync();
        await ScreenshotAsync(new SdkPage("bob", bob), "join-failed");
        Assert.Multiple(async () =>
        {
            Assert.That(await bob.Locator("#problem").InnerTextAsync(), Does.Contain("room_full"));
            Assert.That(await bob.Locator("#state").InnerTextAsync(), Is.EqualTo("failed (join-failed)"));
            Assert.That(await bob.Locator("#join").IsEnabledAsync(), Is.True, "Join works again without a reload");
            Assert.That(await bob.Locator("#leave").IsEnabledAsync(), Is.False);
        });

        await alice.CallAsync("window.demo.client.leave()");
        await bob.Locator("#join").ClickAsync();
        await bob.Locator("#state").GetByText("connected (join-success)").WaitForAsync();
        Assert.That(await bob.Locator("#problem").InnerTextAsync(), Is.Empty, "the old problem is gone");
        Assert.That(await bob.Locator("#join").IsEnabledAsync(), Is.False);
    }

    [Test]
    public async Task SomeoneKickedByTheOperator_IsToldSo_AndCanJoinAgain()
    {
        await StartServerAsync("Sfu:Admin:ApiKey=key");
        var bob = await OpenAsync("bob", "call-6");
        await bob.WaitForStateAsync("connected");
        using var http = new HttpClient { BaseAddress = Server.HttpBase };
        http.DefaultRequestHeaders.Add("X-Api-Key", "key");

        (await http.DeleteAsync($"/admin/rooms/call-6/peers/{await bob.PeerIdAsync()}")).EnsureSuccessStatusCode();
        await bob.Page.Locator("#problem").GetByText("The call ended (kicked)").WaitForAsync();
        await ScreenshotAsync(bob, "kicked");

        Assert.Multiple(async () =>
        {
            Assert.That(await TextAsync(bob, "#state"), Is.EqualTo("disconnected (kicked)"));
            Assert.That(await bob.Page.Locator("#join").IsEnabledAsync(), Is.True);
            Assert.That(await bob.Page.Locator(".tile").CountAsync(), Is.Zero);
        });
        await bob.Page.Locator("#join").ClickAsync();
        await bob.Page.Locator("#state").GetByText("connected (join-success)").WaitForAsync();
    }

    [Test]
    public async Task MuteButtonsAndDevicePickers_ActOnWhatIsPublished()
    {
        await StartServerAsync(MediaOnLoopback);
        var alice = await OpenAsync("alice", "call-5", publish: true);
        await alice.WaitForEventAsync("published", "true", "alice's publish");
        await alice.WaitForAsync("document.querySelectorAll('#mic option').length > 1", "more than one microphone to pick from");

        await alice.Page.Locator("#mute-mic").ClickAsync();
        await alice.Page.Locator("#mute-camera").ClickAsync();
        var micTrack = "window.demo.client.publishedTracks.find(p => p.kind === 'audio').track";
        var before = await alice.EvaluateAsync<string>($"() => {micTrack}.id");
        var other = await alice.EvaluateAsync<string>("() => [...document.querySelectorAll('#mic option')].find(o => !o.selected).value");
        await alice.Page.Locator("#mic").SelectOptionAsync(other);
        await alice.WaitForEventAsync("device", "e.detail.kind === 'audio'", "the microphone switch");
        await ScreenshotAsync(alice, "muted-and-switched");

        Assert.Multiple(async () =>
        {
            Assert.That(await TextAsync(alice, "#mute-mic"), Is.EqualTo("Unmute"));
            Assert.That(await TextAsync(alice, "#mute-camera"), Is.EqualTo("Camera on"));
            Assert.That(await alice.Page.Locator(".tile.self .mic-off").IsVisibleAsync(), Is.True);
            Assert.That(await alice.Page.Locator(".tile.self .placeholder").IsVisibleAsync(), Is.True, "no picture while the camera is off");
            Assert.That(await alice.EvaluateAsync<string>($"() => {micTrack}.getSettings().deviceId"), Is.EqualTo(other));
            Assert.That(await alice.EvaluateAsync<string>($"() => {micTrack}.id"), Is.Not.EqualTo(before));
            Assert.That(await alice.EvaluateAsync<bool>($"() => window.demo.client.publishConnection.getSenders().some(s => s.track === {micTrack})"),
                Is.True, "the sender sends the new microphone");
            Assert.That(await alice.EvaluateAsync<bool>($"() => {micTrack}.enabled"), Is.False, "still muted after the switch");
        });

        await alice.Page.Locator("#mute-mic").ClickAsync();
        Assert.That(await alice.EvaluateAsync<bool>($"() => {micTrack}.enabled"), Is.True);
        Assert.That(await alice.Page.Locator(".tile.self .mic-off").IsVisibleAsync(), Is.False);
    }

    // With two media workers and no imbalance allowed, bob's subscribe transport goes to the second worker: alice's
    // layers reach him through a pipe, and his layer changes ask for keyframes back through it.
    [TestCase(1, TestName = "EachVideoShowsTheLayerItIsReceivedAt_AndTheOwnTileWhatTheCameraSends")]
    [TestCase(2, TestName = "EachVideoShowsTheLayerItIsReceivedAt_WithTheSubscriberOnAnotherMediaWorker")]
    public async Task EachVideoShowsTheLayerItIsReceivedAt(int workers)
    {
        await StartServerAsync(MediaOnLoopback, $"Sfu:Media:Workers={workers}", "Sfu:Media:SpreadRoomAboveImbalance=0");
        var room = $"call-7-{workers}";
        var alice = await OpenAsync("alice", room, publish: true);
        await alice.WaitForEventAsync("published", "true", "alice's publish");
        var bob = await OpenAsync("bob", room);
        var aliceTile = $".tile[data-peer-id={Js(await alice.PeerIdAsync())}]";

        // The page's camera is 640x480, which the SDK publishes as two layers; on loopback bob climbs to the top one.
        await alice.WaitForAsync("document.querySelector('.tile.self .layer').textContent === 'sending 320x240 + 640x480'",
            "alice sending both layers at full size", TimeSpan.FromSeconds(30));
        await bob.WaitForAsync($"document.querySelector('{aliceTile} .layer')?.textContent === {Js("640x480 · high")}",
            "alice's video at the top layer", TimeSpan.FromSeconds(30));
        await ScreenshotAsync(bob, $"layer-high-{workers}w");
        await ScreenshotAsync(alice, $"layers-sent-{workers}w");

        // The label changes with the layer event and the decoded size with the new layer's first keyframe, so the two
        // are read together until they agree; on a loaded machine bob's estimate can also dip and move him down for a
        // moment, and the allocator brings him back up.
        var (label, decoded) = await LabelAndDecodedSizeAsync(bob, $"{aliceTile} .layer", "640x480 · high", TimeSpan.FromSeconds(15));
        Assert.Multiple(async () =>
        {
            Assert.That(label, Is.EqualTo($"{decoded} · high"), "the label is the size bob decodes");
            Assert.That(decoded, Is.EqualTo("640x480"));
            Assert.That(await bob.Page.Locator($"{aliceTile} .layer").IsVisibleAsync(), Is.True);
            Assert.That(await TextAsync(alice, ".tile.self .layer"), Is.EqualTo("sending 320x240 + 640x480"));
        });

        // Bob asks for the low layer (a small tile would), then pauses the video altogether.
        var trackId = await bob.EvaluateAsync<string>("() => window.demo.client.remoteTracks.find(r => r.kind === 'video').trackId");
        await bob.CallAsync($"window.demo.client.setTrackPreferences({Js(trackId)}, {{ maxLayer: 0 }})");
        await bob.WaitForAsync($"document.querySelector('{aliceTile} .layer').textContent === {Js("320x240 · low")}", "the low layer");
        await ScreenshotAsync(bob, $"layer-low-{workers}w");
        Assert.That(await DecodedSizeAsync(bob), Is.EqualTo("320x240"), "what bob decodes is the low layer");

        await bob.CallAsync($"window.demo.client.setTrackPreferences({Js(trackId)}, {{ paused: true }})");
        await bob.WaitForAsync($"document.querySelector('{aliceTile} .layer').textContent === 'paused'", "the paused label");
        await ScreenshotAsync(bob, $"layer-paused-{workers}w");
        Assert.That(await bob.EvaluateAsync<string>($"() => document.querySelector('{aliceTile} .layer').dataset.paused"), Is.EqualTo("true"));

        var bobId = await bob.PeerIdAsync();
        var bobsWorker = await Server.Services.GetRequiredService<Sfu.Signaling.Rooms.RoomRegistry>().Find(room)!.Media!
            .InspectAllAsync(r => r.FindSubscriber(bobId) is null ? -1 : r.Worker.Index);
        Assert.That(bobsWorker.Max(), Is.EqualTo(workers - 1), "bob receives on the last worker");
    }

    // The size of the video the page's browser decodes now, from its own statistics.
    private static Task<string> DecodedSizeAsync(SdkPage page) => page.EvaluateAsync<string>("""
        async () => {
          const video = [...(await window.demo.client.subscribeConnection.getStats()).values()]
            .find(s => s.type === 'inbound-rtp' && s.kind === 'video');
          return `${video?.frameWidth ?? 0}x${video?.frameHeight ?? 0}`;
        }
        """);

    /// <summary>
    /// A tile's layer label and the size the page decodes, read together until the label is <paramref name="expected"/>
    /// and names the decoded size, or <paramref name="wait"/> is over (then the last reading, for the assertions).
    /// </summary>
    private static async Task<(string Label, string Decoded)> LabelAndDecodedSizeAsync(SdkPage page, string selector, string expected, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            var label = await TextAsync(page, selector);
            var decoded = await DecodedSizeAsync(page);
            if ((label == expected && label.StartsWith(decoded + " ·", StringComparison.Ordinal)) || DateTime.UtcNow >= deadline) return (label, decoded);
            await Task.Delay(200);
        }
    }

    private static bool IsSubscribeOffer(System.Text.Json.JsonElement message) =>
        message.TryGetProperty("event", out var name) && name.GetString() == "subscribe-offer";

    private static Task<IReadOnlyList<string>> TileNamesAsync(SdkPage page) => page.Page.Locator(".tile .name").AllInnerTextsAsync();

    private static Task<string> TextAsync(SdkPage page, string selector) => page.Page.Locator(selector).InnerTextAsync();

    /// <summary>Saves the whole page as TestResults/screenshots/<paramref name="name"/>.png and attaches it to the result.</summary>
    private static async Task ScreenshotAsync(SdkPage page, string name)
    {
        var path = RepositoryFiles.PathOf("TestResults", "screenshots", name + ".png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await page.Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.AddTestAttachment(path);
    }
}
