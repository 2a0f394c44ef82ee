using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Sfu.Server.Cluster;
using Sfu.Signaling.Connections;
using Sfu.Signaling.Rooms;

namespace Sfu.Server.Admin;

/// <summary>
/// The operator's HTTP API: list rooms, close a room, kick a peer. Every call needs the API key. In a cluster, the
/// lists cover every node's rooms (as each published them at its last heartbeat, this node's live), each with its
/// node; closing and kicking act on the node that owns the room.
/// </summary>
internal static class AdminEndpoints
{
    public static void MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin").AddEndpointFilter(RequireApiKey);

        admin.MapGet("/rooms", async (SignalingService signaling, IServiceProvider services) =>
            services.GetService<ClusterNode>() is { } cluster
                ? await ClusterRoomsAsync(cluster, signaling)
                : Results.Ok(signaling.Rooms.Rooms.Select(r => RoomSummary.Of(r))));

        admin.MapGet("/rooms/{roomId}", async (string roomId, SignalingService signaling, IServiceProvider services) =>
        {
            if (signaling.Rooms.Find(roomId) is { } room) return Results.Ok(RoomSummary.Of(room, services.GetService<ClusterNode>()?.Identity?.Id));
            return await ElsewhereAsync(roomId, services) is { } remote ? Results.Ok(remote) : NoSuchRoom(roomId);
        });

        admin.MapDelete("/rooms/{roomId}", async (string roomId, SignalingService signaling, IServiceProvider services) =>
        {
            if (signaling.Rooms.Close(roomId, "closed by operator")) return Results.NoContent();
            return await ElsewhereAsync(roomId, services) is { } remote ? OnAnotherNode(remote) : NoSuchRoom(roomId);
        });

        admin.MapDelete("/rooms/{roomId}/peers/{peerId}", async (string roomId, string peerId, SignalingService signaling, IServiceProvider services) =>
        {
            if (signaling.Rooms.Find(roomId) is not { } room)
                return await ElsewhereAsync(roomId, services) is { } remote ? OnAnotherNode(remote) : NoSuchRoom(roomId);
            var peer = room.Peers.FirstOrDefault(p => p.Id == peerId);
            return peer is not null && room.Remove(peer, PeerLeftReason.Kicked)
                ? Results.NoContent()
                : Results.NotFound(new { error = $"no peer '{peerId}' in room '{roomId}'" });
        });
    }

    /// <summary>Every node's rooms: this node's as they are now, the others' as they last published them.</summary>
    private static async Task<IResult> ClusterRoomsAsync(ClusterNode cluster, SignalingService signaling)
    {
        var rooms = signaling.Rooms.Rooms.Select(r => RoomSummary.Of(r, cluster.Identity?.Id)).ToList();
        if (await OtherNodesRoomsAsync(cluster) is not { } others)
            return Results.Json(new { error = "Redis failed: this node's rooms only", rooms }, statusCode: StatusCodes.Status503ServiceUnavailable);
        return Results.Ok(rooms.Concat(others));
    }

    /// <summary>The room as another node of the cluster published it, if one did.</summary>
    private static async Task<RoomSummary?> ElsewhereAsync(string roomId, IServiceProvider services) =>
        services.GetService<ClusterNode>() is { } cluster ? (await OtherNodesRoomsAsync(cluster))?.FirstOrDefault(r => r.Id == roomId) : null;

    /// <summary>The other nodes' rooms, each with its node; null when Redis fails.</summary>
    private static async Task<IReadOnlyList<RoomSummary>?> OtherNodesRoomsAsync(ClusterNode cluster)
    {
        try
        {
            var rooms = new List<RoomSummary>();
            foreach (var (node, json) in await cluster.Directory.RoomsByNodeAsync())
            {
                if (node == cluster.Identity?.Id) continue;
                rooms.AddRange(JsonSerializer.Deserialize<RoomSummary[]>(json, JsonSerializerOptions.Web)!.Select(r => r with { Node = node }));
            }
            return rooms;
        }
        catch (Exception ex) when (ClusterNode.IsRedisFailure(ex))
        {
            cluster.Metrics.RedisFailed("admin");
            return null;
        }
    }

    /// <summary>Closing and kicking act where the room lives: the caller is told which node that is.</summary>
    private static IResult OnAnotherNode(RoomSummary room) =>
        Results.Json(new { error = $"room '{room.Id}' lives on node '{room.Node}': call that node's admin API", node = room.Node }, statusCode: StatusCodes.Status409Conflict);

    private static IResult NoSuchRoom(string roomId) => Results.NotFound(new { error = $"no room '{roomId}'" });

    private static async ValueTask<object?> RequireApiKey(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var configured = http.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.ApiKey;
        if (string.IsNullOrEmpty(configured))
            return Results.Json(new { error = "the admin API is disabled: set Sfu:Admin:ApiKey" }, statusCode: StatusCodes.Status403Forbidden);

        string? presented = http.Request.Headers["X-Api-Key"];
        var authorization = http.Request.Headers.Authorization.ToString();
        if (presented is null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) presented = authorization[7..];
        if (presented is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(configured)))
            return Results.Json(new { error = "missing or wrong API key" }, statusCode: StatusCodes.Status401Unauthorized);

        return await next(context);
    }
}
