namespace Sfu.Signaling.Protocol;

/// <summary>
/// A request that cannot be served, with the error the client gets. Thrown by request validation and
/// handlers, turned into an error response in exactly one place (the connection's dispatcher).
/// </summary>
public sealed class ProtocolException(ErrorCode code, string message) : Exception(message)
{
    public ErrorCode Code { get; } = code;
}
