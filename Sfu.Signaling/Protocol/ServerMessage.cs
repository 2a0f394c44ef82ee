using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sfu.Signaling.Protocol;

/// <summary>
/// Writes server-to-client messages in the v1 envelope. A message is serialized once, into the exact bytes
/// that are sent, logged for replay and re-sent for a repeated request id.
/// </summary>
/// <remarks>
/// Thousands of sessions each answer a ping a second, so building a message allocates nothing but its bytes:
/// each thread reuses one buffer and one <see cref="Utf8JsonWriter"/>, and bodies receive their state as an
/// argument instead of capturing it in a closure.
/// </remarks>
public static class ServerMessage
{
    private const int LargeMessageBytes = 16 * 1024;

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    /// <summary>A successful response; <paramref name="result"/>'s fields are spread into the envelope.</summary>
    public static byte[] Response(RequestId id, long? seq, JsonObject? result) =>
        Write((id, seq, result), static (writer, state) =>
        {
            writer.WriteString("type", "response");
            state.id.WriteTo(writer, "id");
            if (state.seq is { } s) writer.WriteNumber("seq", s);
            writer.WriteBoolean("ok", true);
            WriteFields(writer, state.result);
        });

    public static byte[] Error(RequestId id, long? seq, ErrorCode code, string message) =>
        Write((id, seq, code, message), static (writer, state) =>
        {
            writer.WriteString("type", "response");
            state.id.WriteTo(writer, "id");
            if (state.seq is { } s) writer.WriteNumber("seq", s);
            writer.WriteBoolean("ok", false);
            writer.WriteStartObject("error");
            writer.WriteString("code", state.code.ToWire());
            writer.WriteString("message", state.message);
            writer.WriteEndObject();
        });

    public static byte[] Event(long seq, string name, JsonObject? fields) =>
        Write((seq, name, fields), static (writer, state) =>
        {
            writer.WriteString("type", "event");
            writer.WriteNumber("seq", state.seq);
            writer.WriteString("event", state.name);
            WriteFields(writer, state.fields);
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

    private static byte[] Write<TState>(TState state, Action<Utf8JsonWriter, TState> body)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        try
        {
            writer.WriteStartObject();
            body(writer, state);
            writer.WriteEndObject();
            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            // A large message (an SDP offer) must not pin its buffer's size to this thread for good; the writer
            // goes too, since it holds the buffer until its next reset.
            if (buffer.Capacity > LargeMessageBytes) (t_buffer, t_writer) = (null, null);
        }
    }
}
