namespace Sfu.Media.Sdp;

/// <summary>
/// Gives each codec format a payload type that is unique within one BUNDLE transport. RFC 8843
/// section 9.1 forbids one payload type meaning two codecs across bundled m-lines, which happens as
/// soon as a subscriber receives Chrome's VP8/96 and Safari's H264/96. The publisher's number is kept
/// when it is free, so most streams are forwarded with no rewriting.
/// </summary>
internal sealed class PayloadTypeAllocator(IReadOnlyDictionary<string, int> existing)
{
    // RFC 3551 dynamic range first, then the range browsers also use once that runs out.
    private static readonly int[] Candidates = [.. Enumerable.Range(96, 32), .. Enumerable.Range(35, 29)];

    private readonly Dictionary<string, int> _byFormat = new(existing);

    public IReadOnlyDictionary<string, int> Snapshot => new Dictionary<string, int>(_byFormat);

    public NegotiatedCodec Assign(NegotiatedCodec publisherCodec)
    {
        var mediaKey = publisherCodec.FormatKey;
        var payloadType = Get(mediaKey, publisherCodec.PayloadType);
        int? rtx = publisherCodec.RtxPayloadType is { } publisherRtx ? Get("rtx:" + mediaKey, publisherRtx) : null;
        return publisherCodec.WithPayloadTypes(payloadType, rtx);
    }

    private int Get(string key, int preferred)
    {
        if (_byFormat.TryGetValue(key, out var known))
        {
            return known;
        }

        var used = _byFormat.Values.ToHashSet();
        var index = used.Contains(preferred) ? Array.FindIndex(Candidates, c => !used.Contains(c)) : -1;
        if (used.Contains(preferred) && index < 0)
        {
            throw new SdpNegotiationException("no free RTP payload type left on this transport");
        }

        var chosen = index < 0 ? preferred : Candidates[index];

        _byFormat[key] = chosen;
        return chosen;
    }
}
