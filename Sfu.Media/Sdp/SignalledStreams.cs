namespace Sfu.Media.Sdp;

/// <summary>Pairs the SSRCs of an m-line into media + RTX streams using its ssrc-groups (RFC 5576, RFC 4588).</summary>
internal static class SignalledStreams
{
    public static IReadOnlyList<SignalledStream> From(MediaDescription media)
    {
        var rtxOf = new Dictionary<uint, uint>();
        foreach (var fid in media.SsrcGroups.Where(g => g.Semantics == SsrcGroup.Fid && g.Ssrcs.Count == 2))
        {
            rtxOf[fid.Ssrcs[0]] = fid.Ssrcs[1];
        }

        var repairs = rtxOf.Values.ToHashSet();
        // A SIM group gives the layer order (RFC 5576 style legacy simulcast); otherwise use the order of the a=ssrc lines.
        var order = media.SsrcGroups.Find(g => g.Semantics == SsrcGroup.Sim)?.Ssrcs
            ?? media.Ssrcs.Select(s => s.Ssrc).Where(s => !repairs.Contains(s)).ToArray();
        return order.Select(ssrc => new SignalledStream(ssrc, rtxOf.TryGetValue(ssrc, out var rtx) ? rtx : null)).ToArray();
    }
}
