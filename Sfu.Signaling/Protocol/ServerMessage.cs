using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sfu.Signaling.Protocol;

/// <summary>
/// Writes server-to-client messages in the v1 envelope. A message is serialized once, into the exact bytes
/// that are sent, logged for replay and re-sent for a repeated request id.
/// </summary>
public static class ServerMessage
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = false };

    /// <summary>A successful response; <paramref name="result"/>'s fields are spread into the envelope.</summary>
    public static byte[] Response(RequestId id, long? seq, JsonObject? result) =>
        Write(writer =>
        {
            writer.WriteString("type", "response");
            id.WriteTo(writer, "id");
            if (seq is { } s) writer.WriteNumber("seq", s);
            writer.WriteBoolean("ok", true);
            WriteFields(writer, result);
        });

    public static byte[] Error(RequestId id, long? seq, ErrorCode code, string message) =>
        Write(writer =>
        {
            writer.WriteString("type", "response");
            id.WriteTo(writer, "id");
            if (seq is { } s) writer.WriteNumber("seq", s);
            writer.WriteBoolean("ok", false);
            writer.WriteStartObject("error");
            writer.WriteString("code", code.ToWire());
            writer.WriteString("message", message);
            writer.WriteEndObject();
        });

    public static byte[] Event(long seq, string name, JsonObject? fields) =>
        Write(writer =>
        {
            writer.WriteString("type", "event");
            writer.WriteNumber("seq", seq);
            writer.WriteString("event", name);
            WriteFields(writer, fields);
        });

    private static void WriteFields(Utf8JsonWriter writer, JsonObject? fields)
    {
        if (fields is null) return;
        foreach (var (name, value) in fields)
        {
            writer.WritePropertyName(name);
            if (value is null) writer.WriteNullValue();
            else value.WriteTo(writer);
        }
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
