using System.Text.Json;

namespace Sfu.Client.Signaling;

/// <summary>
/// A TURN (or STUN) server from the join or resume response's <c>iceServers</c> (PROTOCOL.md, "Extensions to v1"),
/// with the time-limited credentials the server issued for this peer: what a WebRTC stack puts in its ICE configuration.
/// </summary>
public sealed record IceServer(IReadOnlyList<string> Urls, string? Username, string? Credential)
{
    /// <summary>The <c>iceServers</c> of a response; empty when the server has none configured (or predates the extension).</summary>
    public static IReadOnlyList<IceServer> ListFrom(JsonElement response)
    {
        if (!response.TryGetProperty("iceServers", out var servers) || servers.ValueKind != JsonValueKind.Array) return [];
        return [.. servers.EnumerateArray().Select(Parse)];
    }

    private static IceServer Parse(JsonElement server)
    {
        var urls = server.GetProperty("urls");
        IReadOnlyList<string> list = urls.ValueKind == JsonValueKind.Array ? [.. urls.EnumerateArray().Select(u => u.GetString()!)] : [urls.GetString()!];
        return new IceServer(list, Optional(server, "username"), Optional(server, "credential"));
    }

    private static string? Optional(JsonElement server, string name) =>
        server.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
