using Prometheus;
using Sfu.Media.IceTcp;
using Sfu.Media.Transports;

namespace Sfu.Media.Diagnostics;

/// <summary>
/// How transports reach their clients (UDP, ICE-TCP, TURN relay), and the ICE-TCP port's figures. Counted from the listener's I/O threads as well as the media worker, so they use the
/// registry's thread-safe instruments; none of them is per packet on a healthy connection.
/// </summary>
internal sealed class IceTcpMetrics
{
    private readonly Gauge.Child _unauthenticated;
    private readonly Gauge.Child _verified;
    private readonly Counter _accepted;
    private readonly Counter _pathsClosed;
    private readonly Counter.Child[] _refused;
    private readonly Counter.Child[] _dropped;
    private readonly Gauge.Child[] _byProtocol;
    private readonly Counter.Child[,] _switches;

    public IceTcpMetrics(IMetricFactory factory)
    {
        var connections = factory.CreateGauge("sfu_media_tcp_connections",
            "Open ICE-TCP connections, by state: unauthenticated (no valid STUN check yet) or verified (a path of a transport).", ["state"]);
        _unauthenticated = connections.WithLabels("unauthenticated");
        _verified = connections.WithLabels("verified");
        _accepted = factory.CreateCounter("sfu_media_tcp_connections_accepted_total", "ICE-TCP connections accepted.");
        _pathsClosed = factory.CreateCounter("sfu_media_tcp_paths_closed_total",
            "Verified ICE-TCP paths that died because their connection closed (the transport keeps its other paths; the peer stays).");
        var refused = factory.CreateCounter("sfu_media_tcp_refused_total",
            "ICE-TCP connections refused or closed before their first valid STUN check, by reason.", ["reason"]);
        _refused = [.. Enum.GetValues<IceTcpRefusal>().Select(r => refused.WithLabels(Label(r.ToString())))];
        var dropped = factory.CreateCounter("sfu_media_tcp_frames_dropped_total",
            "ICE-TCP frames dropped, by reason: oversized, empty, queue-full (the media worker is behind), output-full (the client reads too slowly).", ["reason"]);
        _dropped = [.. Enum.GetValues<IceTcpFrameDrop>().Select(r => dropped.WithLabels(Label(r.ToString())))];
        var protocols = Enum.GetValues<PathProtocol>();
        var byProtocol = factory.CreateGauge("sfu_media_transports_by_protocol",
            "Transports with a selected path, by how it reaches the client: udp, tcp (ICE-TCP), relayed (UDP from a TURN relay address).", ["protocol"]);
        _byProtocol = [.. protocols.Select(p => byProtocol.WithLabels(Label(p.ToString())))];
        var switches = factory.CreateCounter("sfu_media_path_protocol_switches_total",
            "Transports whose media moved to a path of another protocol, by the protocol before and after.", ["from", "to"]);
        _switches = new Counter.Child[protocols.Length, protocols.Length];
        foreach (var from in protocols)
        {
            foreach (var to in protocols)
            {
                if (from != to) _switches[(int)from, (int)to] = switches.WithLabels(Label(from.ToString()), Label(to.ToString()));
            }
        }
    }

    public void SelectedPathOpened(PathProtocol protocol) => _byProtocol[(int)protocol].Inc();

    public void SelectedPathClosed(PathProtocol protocol) => _byProtocol[(int)protocol].Dec();

    public void ProtocolSwitched(PathProtocol from, PathProtocol to) => _switches[(int)from, (int)to].Inc();

    public void Accepted()
    {
        _accepted.Inc();
        _unauthenticated.Inc();
    }

    public void Verified()
    {
        _unauthenticated.Dec();
        _verified.Inc();
    }

    public void Closed(bool verified) => (verified ? _verified : _unauthenticated).Dec();

    public void Refused(IceTcpRefusal reason) => _refused[(int)reason].Inc();

    public void FrameDropped(IceTcpFrameDrop reason) => _dropped[(int)reason].Inc();

    public void PathClosed() => _pathsClosed.Inc();

    private static string Label(string name) => MetricLabels.Kebab(name);
}
