using System.Text.Json;
using System.Text.Unicode;

namespace Sfu.Signaling.Protocol;

/// <summary>
/// One parsed client request: envelope fields plus typed, validated access to its body. Every accessor
/// throws <see cref="ProtocolException"/> with <see cref="ErrorCode.BadRequest"/> and the field's name,
/// so handlers declare what they need instead of checking JSON by hand.
/// </summary>
public sealed class ClientRequest : IDisposable
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 32 };

    private readonly JsonDocument _document;

    private ClientRequest(JsonDocument document, RequestId id, string type)
    {
        _document = document;
        Id = id;
        Type = type;
    }

    public RequestId Id { get; }

    public string Type { get; }

    public JsonElement Body => _document.RootElement;

    /// <summary>
    /// Parses one text frame. On failure, <paramref name="idIfKnown"/> carries the id when the message got
    /// that far, so that the error can still be matched to the request.
    /// </summary>
    public static ClientRequest Parse(ReadOnlyMemory<byte> utf8, out RequestId idIfKnown)
    {
        idIfKnown = RequestId.None;
        // JsonDocument checks UTF-8 only where it decodes a string, so a bad byte inside a value would surface as an
        // InvalidOperationException in whichever handler reads that field. Checked once here, it is a bad request.
        if (!Utf8.IsValid(utf8.Span))
            throw new ProtocolException(ErrorCode.BadRequest, "message is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, ParseOptions);
        }
        catch (JsonException ex)
        {
            throw new ProtocolException(ErrorCode.BadRequest, $"message is not valid JSON: {ex.Message}");
        }

        try
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new ProtocolException(ErrorCode.BadRequest, "message must be a JSON object");
            // Ids are echoed and remembered for repeats: an unbounded string would be memory the client chooses.
            if (!root.TryGetProperty("id", out var idElement) || !RequestId.TryRead(idElement, SignalingOptions.MaxRequestIdLength, out var id))
                throw new ProtocolException(ErrorCode.BadRequest, $"field 'id' must be an integer or a string of at most {SignalingOptions.MaxRequestIdLength} characters");
            idIfKnown = id;
            if (!root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
                throw new ProtocolException(ErrorCode.BadRequest, "field 'type' must be a string");
            return new ClientRequest(document, id, RequestTypes.Read(typeElement));
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    public string RequireString(string name) =>
        OptionalString(name) ?? throw Missing(name, "a string");

    public string? OptionalString(string name)
    {
        if (!Body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) throw WrongType(name, "a string");
        return value.GetString();
    }

    public bool? OptionalBool(string name)
    {
        if (!Body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongType(name, "a boolean"),
        };
    }

    public long RequireInt64(string name) => OptionalInt64(name) ?? throw Missing(name, "an integer");

    public long? OptionalInt64(string name)
    {
        if (!Body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number)) throw WrongType(name, "an integer");
        return number;
    }

    public IReadOnlyList<string> RequireStringArray(string name)
    {
        if (!Body.TryGetProperty(name, out var value)) throw Missing(name, "an array of strings");
        if (value.ValueKind != JsonValueKind.Array) throw WrongType(name, "an array of strings");
        var items = new List<string>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) throw WrongType(name, "an array of strings");
            items.Add(item.GetString()!);
        }
        return items;
    }

    public JsonElement RequireObject(string name)
    {
        if (!Body.TryGetProperty(name, out var value)) throw Missing(name, "an object");
        if (value.ValueKind != JsonValueKind.Object) throw WrongType(name, "an object");
        return value;
    }

    private static ProtocolException Missing(string name, string what) =>
        new(ErrorCode.BadRequest, $"field '{name}' is required and must be {what}");

    private static ProtocolException WrongType(string name, string what) =>
        new(ErrorCode.BadRequest, $"field '{name}' must be {what}");

    public void Dispose() => _document.Dispose();
}
