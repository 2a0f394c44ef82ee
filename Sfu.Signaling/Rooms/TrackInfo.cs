using System.Text.Json.Nodes;
using Sfu.Media.DataChannels;

namespace Sfu.Signaling.Rooms;

/// <summary>A published track as the protocol describes it (<c>Track</c> in PROTOCOL.md).</summary>
/// <param name="Data">For a data track (kind "data", no mid): the parameters of the publisher's channel.</param>
public sealed record TrackInfo(string TrackId, string Kind, string Mid, IReadOnlyList<string> SimulcastRids, DataChannelParameters? Data = null)
{
    public const string DataKind = "data";

    public static TrackInfo ForData(string trackId, DataChannelParameters parameters) => new(trackId, DataKind, "", [], parameters);

    public JsonObject Describe()
    {
        var track = new JsonObject { ["trackId"] = TrackId, ["kind"] = Kind };
        if (Data is { } data)
        {
            track["label"] = data.Label;
            track["ordered"] = data.Ordered;
            if (data.MaxRetransmits is { } retransmits) track["maxRetransmits"] = retransmits;
            if (data.MaxLifetimeMs is { } lifetime) track["maxPacketLifeTime"] = lifetime;
            return track;
        }

        track["mid"] = Mid;
        if (SimulcastRids.Count > 1) track["simulcast"] = new JsonArray([.. SimulcastRids.Select(r => (JsonNode)r)]);
        return track;
    }
}
