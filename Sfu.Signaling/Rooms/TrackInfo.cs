using System.Text.Json.Nodes;

namespace Sfu.Signaling.Rooms;

/// <summary>A published track as the protocol describes it (<c>Track</c> in PROTOCOL.md).</summary>
public sealed record TrackInfo(string TrackId, string Kind, string Mid, IReadOnlyList<string> SimulcastRids)
{
    public JsonObject Describe()
    {
        var track = new JsonObject { ["trackId"] = TrackId, ["kind"] = Kind, ["mid"] = Mid };
        if (SimulcastRids.Count > 1) track["simulcast"] = new JsonArray([.. SimulcastRids.Select(r => (JsonNode)r)]);
        return track;
    }
}
