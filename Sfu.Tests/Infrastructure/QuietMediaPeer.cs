using Sfu.Media.Routing;
using Sfu.Media.Transports;

namespace Sfu.Tests.Infrastructure;

/// <summary>A peer listener for media tests that drive a router directly, where nothing listens for the peer's events.</summary>
internal sealed class QuietMediaPeer : IMediaPeerListener
{
    public static readonly QuietMediaPeer Instance = new();

    public void OnMediaActivity() { }

    public void OnMediaPathLost(TransportDirection direction) { }
}
