using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Sfu.Signaling.Connections;
using Sfu.Signaling.Rooms;

namespace Sfu.Server.Admin;

/// <summary>The operator's HTTP API: list rooms, close a room, kick a peer. Every call needs the API key.</summary>
internal static class AdminEndpoints
{
    public static void MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin").AddEndpointFilter(RequireApiKey);

        admin.MapGet("/rooms", (SignalingService signaling) =>
            Results.Ok(signaling.Rooms.Rooms.Select(Describe)));

        admin.MapGet("/rooms/{roomId}", (string roomId, SignalingService signaling) =>
            signaling.Rooms.Find(roomId) is { } room ? Results.Ok(Describe(room)) : NoSuchRoom(roomId));

        admin.MapDelete("/rooms/{roomId}", (string roomId, SignalingService signaling) =>
            signaling.Rooms.Close(roomId, "closed by operator") ? Results.NoContent() : NoSuchRoom(roomId));

        admin.MapDelete("/rooms/{roomId}/peers/{peerId}", (string roomId, string peerId, SignalingService signaling) =>
        {
            if (signaling.Rooms.Find(roomId) is not { } room) return NoSuchRoom(roomId);
            var peer = room.Peers.FirstOrDefault(p => p.Id == peerId);
            return peer is not null && room.Remove(peer, PeerLeftReason.Kicked)
                ? Results.NoContent()
                : Results.NotFound(new { error = $"no peer '{peerId}' in room '{roomId}'" });
        });
    }

    private static object Describe(Room room) => new
    {
        id = room.Id,
        peers = room.Peers.Select(p => new
        {
            peerId = p.Id,
            name = p.Name,
            identity = p.Identity,
            state = p.IsInterrupted ? "interrupted" : "active",
        }),
    };

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
