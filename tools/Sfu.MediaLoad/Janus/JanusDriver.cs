using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Sfu.Client;
using Sfu.Client.Transport;
using Sfu.Media.Sdp;
using Sfu.MediaLoad.Servers;

namespace Sfu.MediaLoad.Janus;

/// <summary>
/// Janus's VideoRoom plugin as a server for the load: the publisher creates a room, joins it as a publisher and
/// configures with its offer; each subscriber joins with the publisher's feed, answers Janus's offer and starts.
/// Every peer has its own WebSocket and session, as a browser would.
/// </summary>
sealed class JanusDriver(JanusProcess janus) : IServerDriver
{
    private const string VideoRoom = "janus.plugin.videoroom";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly ConcurrentDictionary<string, (long Room, long Feed)> _rooms = new();
    private long _nextRoom = Random.Shared.Next(1, 1 << 30);

    public string Name => "janus";

    public int? ProcessId => janus.ProcessId;

    public async Task<PublisherPeer> PublishAsync(string room, PublisherOptions options, CancellationToken cancel)
    {
        var session = await JanusConnection.OpenSessionAsync(janus.WebSocketUri, cancel);
        var publisher = new Publisher(options);
        var peer = new PublisherPeer(publisher, session);
        try
        {
            long handle = await session.AttachAsync(VideoRoom, cancel);
            long roomId = Interlocked.Increment(ref _nextRoom);
            // No bitrate cap (its REMB would be ignored anyway) and no periodic keyframe requests: only joins ask for
            // keyframes, as with our server.
            await session.MessageAsync(handle, new JsonObject
            {
                ["request"] = "create", ["room"] = roomId, ["description"] = room, ["publishers"] = 1,
                ["audiocodec"] = "opus", ["videocodec"] = "vp8", ["bitrate"] = 0, ["fir_freq"] = 0, ["notify_joining"] = false,
            }, null, asynchronous: false, cancel);
            var (joined, _) = await session.MessageAsync(handle, new JsonObject
            {
                ["request"] = "join", ["ptype"] = "publisher", ["room"] = roomId, ["display"] = "publisher",
            }, null, asynchronous: true, cancel);
            long feed = joined.GetProperty("id").GetInt64();

            // Janus takes the DTLS client role against an actpass offer; ours is always the client, so the offer says active.
            var offer = WithCandidate(publisher.CreateOffer(), publisher.Transport, DtlsSetup.Active);
            var (_, answer) = await session.MessageAsync(handle, new JsonObject { ["request"] = "configure", ["audio"] = true, ["video"] = true },
                Jsep("offer", offer), asynchronous: true, cancel);
            publisher.Accept(SdpParser.Parse(SdpOf(answer)));
            await session.TrickleCompletedAsync(handle, cancel);
            await publisher.Transport.WaitConnectedAsync(Wait).WaitAsync(cancel);
            _rooms[room] = (roomId, feed);
            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    public async Task<SubscriberPeer> SubscribeAsync(string room, SubscriberOptions options, CancellationToken cancel)
    {
        var (roomId, feed) = _rooms.TryGetValue(room, out var known) ? known : throw new InvalidOperationException($"nobody publishes in {room}");
        var openedAt = Stopwatch.GetTimestamp();
        var session = await JanusConnection.OpenSessionAsync(janus.WebSocketUri, cancel);
        var subscriber = new Subscriber(options);
        var peer = new SubscriberPeer(subscriber, session, openedAt);
        try
        {
            long handle = await session.AttachAsync(VideoRoom, cancel);
            var (_, offer) = await session.MessageAsync(handle, new JsonObject
            {
                ["request"] = "join", ["ptype"] = "subscriber", ["room"] = roomId, ["feed"] = feed,
            }, null, asynchronous: true, cancel);
            var answer = WithCandidate(subscriber.Accept(SdpParser.Parse(SdpOf(offer))), subscriber.Transport, DtlsSetup.Active);
            await session.MessageAsync(handle, new JsonObject { ["request"] = "start", ["room"] = roomId }, Jsep("answer", answer), asynchronous: true, cancel);
            await session.TrickleCompletedAsync(handle, cancel);
            await subscriber.Transport.WaitConnectedAsync(Wait).WaitAsync(cancel);
            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    public Task<ServerCounters?> CountersAsync(CancellationToken cancel) => Task.FromResult<ServerCounters?>(null);

    public ValueTask DisposeAsync() => janus.DisposeAsync();

    private static string SdpOf(System.Text.Json.JsonElement? jsep) =>
        jsep?.GetProperty("sdp").GetString() ?? throw new JanusException("a reply without the JSEP it should carry");

    private static JsonObject Jsep(string type, SessionDescription description) =>
        new() { ["type"] = type, ["sdp"] = SdpWriter.Write(description), ["trickle"] = false };

    /// <summary>
    /// Our host candidate in every live section (and no more to come), so that Janus knows our address without
    /// trickle, and the DTLS role we take.
    /// </summary>
    private static SessionDescription WithCandidate(SessionDescription description, ClientTransport transport, DtlsSetup setup)
    {
        var local = transport.LocalEndPoint;
        foreach (var media in description.Media.Where(m => !m.IsRejected))
        {
            media.Setup = setup;
            media.Candidates.Add(new IceCandidate("1", 1, "udp", IceCandidate.HostPriority(1), local.Address.ToString(), local.Port, "host"));
            media.EndOfCandidates = true;
        }

        return description;
    }
}
