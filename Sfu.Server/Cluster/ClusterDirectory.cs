using StackExchange.Redis;

namespace Sfu.Server.Cluster;

/// <summary>
/// What the cluster knows, as Redis keys: which nodes are alive (a record each, with its URL and load, expiring
/// unless renewed), which node owns each room (a lease, <c>SET NX PX</c>, renewed by its owner) and in which room each
/// session lives (for a <c>resume</c> that reaches another node). Every write that depends on who holds a key is one
/// Lua script, so that a lease is only renewed or released by its holder.
/// </summary>
internal sealed class ClusterDirectory(IDatabase redis, int leaseMs)
{
    private const string NodesKey = "sfu:nodes";
    /// <summary>Sessions can last a meeting's length; a session key outliving its session is harmless (its room decides).</summary>
    private static readonly TimeSpan SessionKeyLifetime = TimeSpan.FromDays(1);

    // 1: renewed, 2: the key had gone (Redis restarted or was unreachable past the lease) and is ours again, 0: held by another node.
    private const string RenewScript = """
        local holder = redis.call('GET', KEYS[1])
        if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
        if not holder then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
        return 0
        """;

    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    private static RedisKey RoomKey(string roomId) => "sfu:room:" + roomId;
    private static RedisKey NodeKey(string nodeId) => "sfu:node:" + nodeId;
    private static RedisKey NodeRoomsKey(string nodeId) => "sfu:node-rooms:" + nodeId;
    private static RedisKey SessionKey(string sessionId) => "sfu:session:" + sessionId;

    private TimeSpan Lease => TimeSpan.FromMilliseconds(leaseMs);

    /// <summary>Writes this node's record (URL and load) and its rooms' description, both living one lease.</summary>
    public async Task PublishNodeAsync(NodeRecord node, string roomsJson)
    {
        var batch = redis.CreateBatch();
        var writes = new[]
        {
            batch.HashSetAsync(NodeKey(node.Id), [new("url", node.Url), new("rooms", node.Rooms), new("peers", node.Peers)]),
            batch.KeyExpireAsync(NodeKey(node.Id), Lease),
            batch.SetAddAsync(NodesKey, node.Id),
            batch.StringSetAsync(NodeRoomsKey(node.Id), roomsJson, Lease),
        };
        batch.Execute();
        await Task.WhenAll(writes).ConfigureAwait(false);
    }

    /// <summary>Removes this node's record (graceful shutdown): it is no longer a candidate for new rooms.</summary>
    public async Task RemoveNodeAsync(string nodeId)
    {
        await redis.KeyDeleteAsync([NodeKey(nodeId), NodeRoomsKey(nodeId)]).ConfigureAwait(false);
        await redis.SetRemoveAsync(NodesKey, nodeId).ConfigureAwait(false);
    }

    /// <summary>Every node whose record has not expired; forgets the ids of those whose record has.</summary>
    public async Task<IReadOnlyList<NodeRecord>> LiveNodesAsync()
    {
        var ids = await redis.SetMembersAsync(NodesKey).ConfigureAwait(false);
        var batch = redis.CreateBatch();
        var reads = ids.Select(id => batch.HashGetAsync(NodeKey(id!), ["url", "rooms", "peers"])).ToArray();
        batch.Execute();
        var fields = await Task.WhenAll(reads).ConfigureAwait(false);
        var live = new List<NodeRecord>(ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            if (fields[i][0].IsNull)
            {
                await redis.SetRemoveAsync(NodesKey, ids[i]).ConfigureAwait(false);
                continue;
            }
            live.Add(new NodeRecord(ids[i]!, fields[i][0]!, (long)fields[i][1], (long)fields[i][2]));
        }
        return live;
    }

    /// <summary>The URL of a live node, or null when its record has expired or been removed.</summary>
    public async Task<string?> NodeUrlAsync(string nodeId) =>
        await redis.HashGetAsync(NodeKey(nodeId), "url").ConfigureAwait(false) is { IsNull: false } url ? url.ToString() : null;

    /// <summary>Every live node's rooms, as each node described them at its last heartbeat.</summary>
    public async Task<IReadOnlyList<(string NodeId, string RoomsJson)>> RoomsByNodeAsync()
    {
        var nodes = await LiveNodesAsync().ConfigureAwait(false);
        var result = new List<(string, string)>(nodes.Count);
        foreach (var node in nodes)
        {
            if (await redis.StringGetAsync(NodeRoomsKey(node.Id)).ConfigureAwait(false) is { IsNull: false } json) result.Add((node.Id, json!));
        }
        return result;
    }

    public async Task<string?> RoomOwnerAsync(string roomId) =>
        await redis.StringGetAsync(RoomKey(roomId)).ConfigureAwait(false) is { IsNull: false } owner ? owner.ToString() : null;

    /// <summary>Takes the room's lease for <paramref name="nodeId"/> if nobody holds it, and counts the room in that node's load at once.</summary>
    public async Task<bool> TryClaimRoomAsync(string roomId, string nodeId)
    {
        if (!await redis.StringSetAsync(RoomKey(roomId), nodeId, Lease, When.NotExists).ConfigureAwait(false)) return false;
        // Until its next heartbeat, the node's record would not show the room: the next placement would pick it again.
        await redis.HashIncrementAsync(NodeKey(nodeId), "rooms").ConfigureAwait(false);
        return true;
    }

    /// <summary>Renews the lease of a room this node holds (or takes it back if it lapsed); false if another node holds it.</summary>
    public async Task<LeaseRenewal> RenewRoomAsync(string roomId, string nodeId) =>
        (int)await redis.ScriptEvaluateAsync(RenewScript, [RoomKey(roomId)], [nodeId, leaseMs]).ConfigureAwait(false) switch
        {
            1 => LeaseRenewal.Renewed,
            2 => LeaseRenewal.Reclaimed,
            _ => LeaseRenewal.HeldByAnother,
        };

    /// <summary>Gives up a room's lease, if <paramref name="nodeId"/> still holds it.</summary>
    public Task ReleaseRoomAsync(string roomId, string nodeId) =>
        redis.ScriptEvaluateAsync(ReleaseScript, [RoomKey(roomId)], [nodeId]);

    public Task RecordSessionAsync(string sessionId, string roomId) =>
        redis.StringSetAsync(SessionKey(sessionId), roomId, SessionKeyLifetime);

    public Task ForgetSessionAsync(string sessionId) => redis.KeyDeleteAsync(SessionKey(sessionId));

    public async Task<string?> SessionRoomAsync(string sessionId) =>
        await redis.StringGetAsync(SessionKey(sessionId)).ConfigureAwait(false) is { IsNull: false } room ? room.ToString() : null;
}

/// <summary>A node as the cluster sees it: where to reach it and how loaded it was at its last heartbeat.</summary>
internal sealed record NodeRecord(string Id, string Url, long Rooms, long Peers);

internal enum LeaseRenewal
{
    Renewed,
    Reclaimed,
    HeldByAnother,
}
