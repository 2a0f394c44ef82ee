using System.Text.Json.Nodes;

namespace Sfu.Signaling.Rooms;

/// <summary>How a room reaches a peer's client: through its session, never through a socket.</summary>
public interface IPeerOutbox
{
    void Emit(string eventName, JsonObject? fields);

    /// <summary>Ends the peer's signaling for good, closing its socket (if any) with <paramref name="closeCode"/>.</summary>
    void End(int closeCode, string reason);
}
