using System.Text.Json;

namespace Sfu.Server.Cluster;

/// <summary>
/// Decides where a socket's first message is served. A <c>join</c> goes to the node that holds its room's lease; a
/// room nobody holds is claimed for the least-loaded live node. A <c>resume</c> goes to the node that holds the lease
/// of the room its session was recorded in. Everything else, and everything while Redis fails, is served here (the
/// single-node behaviour): this node's own answers then say what is wrong.
/// </summary>
internal sealed class RoomPlacement(ClusterNode node)
{
    private const int ClaimAttempts = 4;

    /// <summary>The URL of the node to relay to, or null to serve the socket here.</summary>
    public async Task<string?> PlaceAsync(ReadOnlyMemory<byte> firstMessage)
    {
        if (node.Identity is not { } self || FirstMessage.Read(firstMessage.Span) is not { } first) return null;
        try
        {
            var url = first.Type == "join"
                ? await PlaceJoinAsync(self, first.Key).ConfigureAwait(false)
                : await PlaceResumeAsync(self, first.Key).ConfigureAwait(false);
            node.Metrics.Placed(url is null ? "local" : "remote");
            return url;
        }
        catch (Exception ex) when (ClusterNode.IsRedisFailure(ex))
        {
            node.Metrics.RedisFailed("placement");
            node.Metrics.Placed("fallback");
            return null;
        }
    }

    private async Task<string?> PlaceJoinAsync(NodeIdentity self, string roomId)
    {
        var directory = node.Directory;
        for (var attempt = 0; attempt < ClaimAttempts; attempt++)
        {
            var owner = await directory.RoomOwnerAsync(roomId).ConfigureAwait(false);
            if (owner is null)
            {
                var target = LeastLoaded(await directory.LiveNodesAsync().ConfigureAwait(false)) ?? new NodeRecord(self.Id, self.Url, 0, 0);
                if (await directory.TryClaimRoomAsync(roomId, target.Id).ConfigureAwait(false)) return target.Id == self.Id ? null : target.Url;
                continue; // another node claimed it first: go where it went
            }
            if (owner == self.Id) return null;
            if (await directory.NodeUrlAsync(owner).ConfigureAwait(false) is { } url) return url;
            // The owner left the cluster (its record is gone) but its lease has not expired yet: free the room now.
            await directory.ReleaseRoomAsync(roomId, owner).ConfigureAwait(false);
        }
        return null;
    }

    private async Task<string?> PlaceResumeAsync(NodeIdentity self, string sessionId)
    {
        var directory = node.Directory;
        if (await directory.SessionRoomAsync(sessionId).ConfigureAwait(false) is not { } roomId) return null;
        var owner = await directory.RoomOwnerAsync(roomId).ConfigureAwait(false);
        // No owner: the session's node is gone, and with it the session; served here, the client hears session_expired.
        if (owner is null || owner == self.Id) return null;
        return await directory.NodeUrlAsync(owner).ConfigureAwait(false);
    }

    /// <summary>Fewest peers first, then fewest rooms; ties by id, so that every node picks the same one.</summary>
    private static NodeRecord? LeastLoaded(IReadOnlyList<NodeRecord> nodes) =>
        nodes.OrderBy(n => n.Peers).ThenBy(n => n.Rooms).ThenBy(n => n.Id, StringComparer.Ordinal).FirstOrDefault();
}

/// <summary>What placement needs of a first message: its type and the room (join) or session (resume) it names.</summary>
internal readonly record struct FirstMessage(string Type, string Key)
{
    private const int MaxRoomLength = 128;

    /// <summary>The message's type and key, or null for anything else (malformed, another type, a missing field).</summary>
    public static FirstMessage? Read(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            string? type = null, room = null, session = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                if (!reader.Read()) return null;
                if (reader.TokenType == JsonTokenType.String)
                {
                    switch (name)
                    {
                        case "type": type = reader.GetString(); break;
                        case "room": room = reader.GetString(); break;
                        case "sessionId": session = reader.GetString(); break;
                    }
                }
                else reader.Skip();
            }
            return type switch
            {
                // A name the join itself would refuse is not worth a lease: served here, it gets its bad_request.
                "join" when room is { Length: > 0 and <= MaxRoomLength } => new FirstMessage(type, room),
                "resume" when !string.IsNullOrEmpty(session) => new FirstMessage(type, session),
                _ => null,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
