namespace Sfu.Media.Rtp;

/// <summary>
/// What each sequence number a consumer sent carried, to answer the subscriber's NACKs: the source packet (layer,
/// SSRC and sequence number, to find it in the producer's cache and know it is still that packet), the timestamp, marker and VP8 picture numbering it went out with,
/// when it was sent, and when it was last re-sent (at most once per round trip: a subscriber repeating its NACK before
/// the first answer could reach it gets nothing twice). One entry per slot (sequence number modulo <see cref="Size"/>),
/// so that recording a copy touches one cache line: a fan-out to hundreds of subscribers writes one entry each, and
/// with an array per field that was a cache miss per field per copy. Worker thread only.
/// </summary>
internal sealed class SentPacketHistory(long timestampFrequency)
{
    public const int Size = 1024;

    /// <summary>The round trip assumed until one is measured: what mediasoup and libwebrtc assume too.</summary>
    public static readonly TimeSpan DefaultRoundTrip = TimeSpan.FromMilliseconds(100);

    private readonly Entry[] _entries = new Entry[Size];
    private readonly long _minResendInterval = (long)(DefaultRoundTrip.TotalSeconds * timestampFrequency);

    public enum Resend : byte
    {
        /// <summary>Never sent, or no longer remembered.</summary>
        Unknown,

        /// <summary>Re-sent less than a round trip ago.</summary>
        Throttled,

        Allowed,
    }

    /// <summary>Whether <paramref name="sequence"/> went out and is still remembered.</summary>
    public bool Contains(ushort sequence)
    {
        ref readonly var entry = ref _entries[sequence % Size];
        return entry.Valid && entry.Sequence == sequence;
    }

    /// <summary>Remembers a packet sent under <paramref name="sequence"/>, never re-sent yet; its picture numbering is set after.</summary>
    public ref Entry Record(ushort sequence, int sourceLayer, uint sourceSsrc, ushort sourceSequence, uint timestamp, bool marker, long now)
    {
        ref var entry = ref _entries[sequence % Size];
        entry = new Entry
        {
            Valid = true,
            Sequence = sequence,
            SourceLayer = (byte)sourceLayer,
            SourceSsrc = sourceSsrc,
            SourceSequence = sourceSequence,
            Timestamp = timestamp,
            Marker = marker,
            SentAt = now,
            ResentAt = long.MinValue,
        };
        return ref entry;
    }

    /// <summary>Whether <paramref name="sequence"/> may go again now; if so, remembered as re-sent now.</summary>
    public Resend TryResend(ushort sequence, long now, out Entry sent)
    {
        ref var entry = ref _entries[sequence % Size];
        sent = entry;
        if (!entry.Valid || entry.Sequence != sequence) return Resend.Unknown;
        if (entry.ResentAt != long.MinValue && now - entry.ResentAt < _minResendInterval) return Resend.Throttled;
        entry.ResentAt = now;
        return Resend.Allowed;
    }

    /// <summary>Whether <paramref name="sequence"/> went out at <paramref name="since"/> or later and is still remembered.</summary>
    public bool SentSince(ushort sequence, long since) => Contains(sequence) && _entries[sequence % Size].SentAt >= since;

    public struct Entry
    {
        public bool Valid;
        // The marker it went out with: an SVC subscriber's picture can end before the publisher's.
        public bool Marker;
        public byte SourceLayer;
        public ushort Sequence;
        public ushort SourceSequence;
        public ushort PictureOffset;
        public byte Tl0Offset;
        public uint Timestamp;
        // A layer the publisher restarts under a new SSRC numbers afresh: its packets can take the cache slots of the
        // old SSRC's under the same sequence numbers, and must not answer a NACK for those.
        public uint SourceSsrc;
        public long SentAt;
        public long ResentAt;
    }
}
