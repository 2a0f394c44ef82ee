namespace Sfu.Media.IceTcp;

/// <summary>The ICE-TCP listener's bounds, taken from <see cref="MediaOptions"/>.</summary>
public sealed record IceTcpOptions(
    int MaxFrameLength,
    int OutputBufferBytes,
    long ReceiveQueueBytes,
    int MaxUnauthenticatedConnections,
    long UnauthenticatedMaxBytes,
    int UnauthenticatedTimeoutMs)
{
    public static IceTcpOptions From(MediaOptions options, int maxFrameLength) => new(
        maxFrameLength,
        options.TcpOutputBufferBytes,
        options.TcpReceiveQueueBytes,
        options.TcpMaxUnauthenticatedConnections,
        options.TcpUnauthenticatedMaxBytes,
        options.TcpUnauthenticatedTimeoutMs);
}
