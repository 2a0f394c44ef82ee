namespace Sfu.Media.Sdp;

/// <summary>One rid inside an a=simulcast list; "~q" means the stream is offered paused.</summary>
public sealed record SimulcastRid(string Id, bool Paused = false)
{
    public override string ToString() => Paused ? "~" + Id : Id;
}

/// <summary>
/// a=simulcast (RFC 8853). Each direction is a list of streams; each stream is a list of
/// alternative rids, the first one preferred ("send q;h,h2;f" is three streams, the second with
/// two alternatives).
/// </summary>
public sealed class SimulcastDescription
{
    public List<IReadOnlyList<SimulcastRid>> Send { get; } = [];

    public List<IReadOnlyList<SimulcastRid>> Recv { get; } = [];

    public override string ToString()
    {
        var parts = new List<string>(2);
        if (Send.Count > 0)
        {
            parts.Add("send " + Format(Send));
        }

        if (Recv.Count > 0)
        {
            parts.Add("recv " + Format(Recv));
        }

        return string.Join(' ', parts);
    }

    private static string Format(List<IReadOnlyList<SimulcastRid>> streams) =>
        string.Join(';', streams.Select(alternatives => string.Join(',', alternatives)));
}
