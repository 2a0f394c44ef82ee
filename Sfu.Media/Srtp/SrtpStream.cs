namespace Sfu.Media.Srtp;

/// <summary>What one context remembers about one SSRC in one direction.</summary>
internal sealed class SrtpStream
{
    public SrtpStream(uint ssrc) => Ssrc = ssrc;

    public uint Ssrc { get; }

    /// <summary>Receive side: highest RTP index (drives the ROC guess) and the replay window.</summary>
    public ReplayWindow Rtp;

    /// <summary>Receive side: SRTCP indices already accepted.</summary>
    public ReplayWindow Rtcp;

    /// <summary>Send side: the highest RTP index protected so far, so the ROC follows sequence wraps.</summary>
    public ulong SentRtpHighest;

    public bool SentRtpStarted;

    /// <summary>Send side: the next SRTCP index; RFC 3711 section 3.4 starts at zero, 31 bits wide.</summary>
    public uint NextRtcpIndex;
}

/// <summary>
/// SSRC -> stream state. Entries are added on the first authenticated packet of an SSRC
/// (the one allocation a stream costs) and the table is bounded so a peer cycling SSRCs
/// cannot grow it without limit.
/// </summary>
internal sealed class SrtpStreamTable
{
    public const int DefaultCapacity = 256;

    private readonly Dictionary<uint, SrtpStream> _streams = new();
    private readonly int _capacity;

    public SrtpStreamTable(int capacity = DefaultCapacity) => _capacity = capacity;

    public int Count => _streams.Count;

    public SrtpStream? Find(uint ssrc) => _streams.GetValueOrDefault(ssrc);

    /// <summary>Returns null when the table is full.</summary>
    public SrtpStream? GetOrAdd(uint ssrc)
    {
        if (_streams.TryGetValue(ssrc, out SrtpStream? stream))
        {
            return stream;
        }

        if (_streams.Count >= _capacity)
        {
            return null;
        }

        stream = new SrtpStream(ssrc);
        _streams.Add(ssrc, stream);
        return stream;
    }

    public bool Remove(uint ssrc) => _streams.Remove(ssrc);
}
