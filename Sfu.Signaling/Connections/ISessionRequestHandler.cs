using Sfu.Signaling.Protocol;
using Sfu.Signaling.Sessions;

namespace Sfu.Signaling.Connections;

/// <summary>
/// Serves one request type for a joined session. The handler answers through the session (never a socket),
/// so a response still reaches the client if it reconnects meanwhile. Throw <see cref="ProtocolException"/>
/// to answer with an error.
/// </summary>
public interface ISessionRequestHandler
{
    string Type { get; }

    ValueTask HandleAsync(Session session, ClientRequest request);
}
