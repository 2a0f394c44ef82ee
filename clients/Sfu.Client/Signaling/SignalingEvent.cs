using System.Text.Json;

namespace Sfu.Client.Signaling;

/// <summary>One server event: its name, its <c>seq</c> and the whole message (fields at the top level).</summary>
public sealed record SignalingEvent(string Name, long Seq, JsonElement Message)
{
    public string? GetString(string field) => Message.TryGetProperty(field, out var value) ? value.GetString() : null;
}

/// <summary>A request the server answered with <c>ok: false</c>.</summary>
public sealed class SignalingException(string requestType, string code, string? detail)
    : Exception($"{requestType} failed: {code}{(detail is null ? "" : $" ({detail})")}")
{
    public string RequestType { get; } = requestType;

    public string Code { get; } = code;
}
