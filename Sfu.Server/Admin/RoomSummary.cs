using System.Text.Json.Serialization;
using Sfu.Signaling.Rooms;

namespace Sfu.Server.Admin;

/// <summary>A room as the admin API shows it; in a cluster, also what each node publishes of its rooms, with its id.</summary>
internal sealed record RoomSummary(string Id, IReadOnlyList<PeerSummary> Peers, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Node = null)
{
    public static RoomSummary Of(Room room, string? node = null) => new(
        room.Id,
        [.. room.Peers.Select(p => new PeerSummary(p.Id, p.Name, p.Identity, p.IsInterrupted ? "interrupted" : "active"))],
        node);
}

internal sealed record PeerSummary(string PeerId, string Name, string? Identity, string State);
