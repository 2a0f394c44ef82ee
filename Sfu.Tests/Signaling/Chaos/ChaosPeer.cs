using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sfu.Tests.Infrastructure;

namespace Sfu.Tests.Signaling.Chaos;

/// <summary>
/// One client of the signaling chaos test: a session that keeps losing its socket. It reads every message in arrival
/// order and holds the session's stream to PROTOCOL.md: it accepts a seq only if it is the next one (a gap is a lost
/// message), sees an older seq only as the stored answer to a request it repeated (byte for byte, never an event: an
/// event seen twice is a duplicate), and after each drop resumes from a new local address with the last seq it has,
/// then repeats every request it has no response to, with the same id.
/// </summary>
internal sealed class ChaosPeer(Uri server, string room, Random random, ConcurrentDictionary<string, bool> deliberatelyLeft)
{
    private readonly Dictionary<long, string> _requests = [];   // in flight: id -> the exact text sent
    private readonly HashSet<long> _repeated = [];
    private readonly Dictionary<long, string> _accepted = [];   // seq -> raw message, this session
    private TestClient? _socket;
    private string _sessionId = "";
    private string _resumeToken = "";
    private long _highest;
    private long _nextId;
    private bool _published;

    public List<string> Violations { get; } = [];

    public int Drops { get; private set; }

    public int Sessions { get; private set; }

    public long MessagesAccepted { get; private set; }

    public int PeerLeftSeen { get; private set; }

    public string PeerId { get; private set; } = "";

    public async Task JoinAsync()
    {
        _socket = await TestClient.ConnectAsync(server, NewLocalAddress());
        _accepted.Clear();
        _repeated.Clear();
        _highest = 0;
        _published = false;
        var id = ++_nextId;
        await SendAsync(id, new JsonObject { ["type"] = "join", ["room"] = room, ["autoSubscribe"] = false });
        var join = await ReadUntilAnsweredAsync(id);
        _sessionId = join.Str("sessionId");
        _resumeToken = join.Str("resumeToken");
        PeerId = join.Str("peerId");
        Sessions++;
    }

    /// <summary>
    /// <paramref name="drops"/> times: a few requests, sometimes answered before the drop and sometimes still in flight,
    /// the drop and the resume, and now and then a leave and a new join; then everything answered and a last ping.
    /// </summary>
    public async Task<long> RunAsync(int drops, int maxAwayMs)
    {
        for (var drop = 0; drop < drops; drop++)
        {
            await SendSomeAsync();
            if (random.Next(2) == 0) await SettleAsync();
            await DropAndResumeAsync(maxAwayMs);
            if (random.Next(drops) == 0) await LeaveAndRejoinAsync();
        }

        await SettleAsync();
        return await FinalSeqAsync();
    }

    /// <summary>Sends a few requests (ping, and a publish once per session) without waiting for their answers.</summary>
    private async Task SendSomeAsync()
    {
        for (var n = random.Next(0, 4); n > 0; n--)
        {
            var request = !_published && random.Next(4) == 0
                ? new JsonObject { ["type"] = "publish", ["sdp"] = Media.Sdp.SdpFixtures.Load(Media.Sdp.SdpFixtures.ChromeSendOnly) }
                : new JsonObject { ["type"] = "ping", ["lastSeq"] = _highest };
            _published |= (string?)request["type"] == "publish";
            await SendAsync(++_nextId, request);
        }
    }

    /// <summary>Reads until every request sent so far is answered.</summary>
    private async Task SettleAsync()
    {
        while (_requests.Count > 0) Process(await _socket!.NextAsync());
    }

    /// <summary>The socket vanishes (no close frame); after up to <paramref name="maxAwayMs"/> the client resumes from a new address.</summary>
    private async Task DropAndResumeAsync(int maxAwayMs)
    {
        var dead = _socket!;
        dead.Abort();
        Drops++;
        // What arrived before the drop was received; the rest is the server's to replay.
        foreach (var message in await DrainAsync(dead)) Process(message);
        await dead.DisposeAsync();
        await Task.Delay(random.Next(0, maxAwayMs + 1));

        _socket = await TestClient.ConnectAsync(server, NewLocalAddress());
        var resumeId = ++_nextId;
        await _socket.SendAsync(new { type = "resume", id = resumeId, sessionId = _sessionId, resumeToken = _resumeToken, lastSeq = _highest });
        var resumed = await _socket.NextAsync();
        if (resumed.Seq() is not null || !TestClient.IsResponseTo(resumed, resumeId) || !resumed.Ok())
        {
            Violations.Add($"resume after drop {Drops} answered {resumed}");
            throw new InvalidOperationException(Violations[^1]);
        }

        foreach (var (id, text) in _requests.ToList())
        {
            _repeated.Add(id);
            await _socket.SendTextAsync(text);
        }
    }

    /// <summary>Leaves for good (answered, then the server closes the socket) and joins again as a new session.</summary>
    private async Task LeaveAndRejoinAsync()
    {
        await LeaveAsync();
        await JoinAsync();
    }

    public async Task LeaveAsync()
    {
        await SettleAsync();
        // Recorded before sending: others may read our peer-left before we read the answer.
        deliberatelyLeft.TryAdd(PeerId, true);
        var id = ++_nextId;
        await SendAsync(id, new JsonObject { ["type"] = "leave" });
        await ReadUntilAnsweredAsync(id);
        await _socket!.DisposeAsync();
    }

    /// <summary>A last ping, answered: every seq up to its answer's arrived exactly once, in order.</summary>
    private async Task<long> FinalSeqAsync()
    {
        var id = ++_nextId;
        await SendAsync(id, new JsonObject { ["type"] = "ping", ["lastSeq"] = _highest });
        return (await ReadUntilAnsweredAsync(id)).Seq() ?? -1;
    }

    /// <summary>A peer-left is a violation unless it says leave about a peer that sent one.</summary>
    private void CheckPeerLeft(JsonElement message)
    {
        PeerLeftSeen++;
        var reason = message.Str("reason");
        var about = message.Str("peerId");
        if (reason != "leave" || !deliberatelyLeft.ContainsKey(about))
            Violations.Add($"peer-left {about} ({reason}) for a peer that came back in time");
    }

    private async Task SendAsync(long id, JsonObject request)
    {
        request["id"] = id;
        var text = request.ToJsonString();
        _requests[id] = text;
        await _socket!.SendTextAsync(text);
    }

    private async Task<JsonElement> ReadUntilAnsweredAsync(long id)
    {
        while (true)
        {
            var message = await _socket!.NextAsync();
            Process(message);
            if (TestClient.IsResponseTo(message, id)) return message;
        }
    }

    private void Process(JsonElement message)
    {
        if (message.Seq() is not { } seq)
        {
            Violations.Add($"a message without seq inside the session: {message}");
            return;
        }

        var isResponse = message.Type() == "response";
        var id = isResponse && message.TryGetProperty("id", out var idElement) ? idElement.GetInt64() : 0;
        if (seq <= _highest)
        {
            if (!isResponse || !_repeated.Contains(id)) Violations.Add($"seq {seq} arrived twice ({message.Event() ?? "response"}) after {_highest}");
            else if (_accepted[seq] != message.GetRawText()) Violations.Add($"the repeated request {id} was answered with other bytes than seq {seq}");
        }
        else
        {
            if (seq != _highest + 1) Violations.Add($"seq {seq} after {_highest}: {seq - _highest - 1} lost");
            _highest = seq;
            _accepted[seq] = message.GetRawText();
            MessagesAccepted++;
            if (message.Event() == "peer-left") CheckPeerLeft(message);
        }

        if (isResponse)
        {
            if (!message.Ok()) Violations.Add($"request {id} failed: {message}");
            _requests.Remove(id);
        }
    }

    /// <summary>The messages a dropped socket had already received, once its receive loop has stopped.</summary>
    private static async Task<IReadOnlyList<JsonElement>> DrainAsync(TestClient dead)
    {
        await dead.Closed.WaitAsync(TestClient.DefaultWait);
        return dead.Unread();
    }

    // Every (re)connection from another loopback address: a phone moving between networks, as the server sees it.
    private string NewLocalAddress() => $"127.0.0.{random.Next(2, 255)}";
}
