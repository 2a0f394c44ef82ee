using System.Text;
using System.Text.Json;

namespace Sfu.Signaling.Protocol;

/// <summary>The request types of PROTOCOL.md v1 and its extensions, the one list the parser and the metrics share.</summary>
public static class RequestTypes
{
    private static readonly string[] Names =
    [
        "join", "resume", "ping", "publish", "unpublish", "subscribe-answer", "subscribe", "unsubscribe",
        "restart-ice", "candidate", "leave", "simulate", "set-track-preferences",
    ];

    private static readonly byte[][] Utf8Names = [.. Names.Select(Encoding.UTF8.GetBytes)];

    /// <summary>Every request type, in the order of PROTOCOL.md.</summary>
    public static IReadOnlyList<string> All => Names;

    public static bool IsKnown(string type) => Array.IndexOf(Names, type) >= 0;

    /// <summary>
    /// The request's type as a string: a known type comes back as this class's own instance, so the thousands of
    /// pings a second allocate no string for it; anything else is read as sent.
    /// </summary>
    public static string Read(JsonElement type)
    {
        for (var i = 0; i < Utf8Names.Length; i++)
        {
            if (type.ValueEquals(Utf8Names[i])) return Names[i];
        }
        return type.GetString()!;
    }
}
