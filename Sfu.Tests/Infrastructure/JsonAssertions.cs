using System.Text.Json;

namespace Sfu.Tests.Infrastructure;

/// <summary>Small readers for protocol messages, so tests state expectations instead of walking JSON.</summary>
public static class Msg
{
    public static string Type(this JsonElement m) => m.GetProperty("type").GetString()!;

    public static string? Event(this JsonElement m) => m.TryGetProperty("event", out var e) ? e.GetString() : null;

    public static long? Seq(this JsonElement m) => m.TryGetProperty("seq", out var s) ? s.GetInt64() : null;

    public static bool Ok(this JsonElement m) => m.GetProperty("ok").GetBoolean();

    public static string? ErrorCode(this JsonElement m) =>
        m.TryGetProperty("error", out var e) ? e.GetProperty("code").GetString() : null;

    public static string Str(this JsonElement m, string name) => m.GetProperty(name).GetString()!;
}
