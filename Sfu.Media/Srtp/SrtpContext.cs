using System.Buffers.Binary;

namespace Sfu.Media.Srtp;

/// <summary>
/// SRTP and SRTCP (RFC 3711, RFC 7714) under one master key: the receive side of a publisher's
/// transport calls <see cref="Unprotect"/> / <see cref="UnprotectRtcp"/>, the send side of a
/// subscriber's transport calls <see cref="Protect"/> / <see cref="ProtectRtcp"/>.
/// </summary>
/// <remarks>
/// Every method works in place on a caller's buffer and allocates nothing per packet; a new SSRC
/// costs one small object, added only once a packet from it authenticates. Outcomes are
/// <see cref="SrtpStatus"/> values.
/// <para>Threads: every call takes a lock of the context's own. In the server it is never contended: a
/// <c>WebRtcTransport</c> and its two contexts live on the one media worker thread (ICE-TCP frames are queued to
/// that thread, DTLS keys them there, the router sends from there). The lock is for <c>Sfu.Client</c>'s
/// <c>ClientTransport</c>, whose contexts are used from several threads at once: the outbound one by a publisher's
/// send loop, its NACK retransmissions from the receive loop and a subscriber's RTCP from timers (sends come from
/// any thread); the inbound one by the receive loops of UDP and ICE-TCP during a path change; either by
/// <see cref="Dispose"/> from the application's thread. Without it two packets of one SSRC could race on that
/// stream's ROC and replay window, and on the one keyed HMAC the suite reuses: corrupt packets, not an error.
/// A server-only context without the lock would save its uncontended cost per packet; that needs the client to
/// serialise its own calls first.</para>
/// </remarks>
public sealed class SrtpContext : IDisposable
{
    private const int RtpFixedHeaderLength = 12;
    private const int RtcpHeaderLength = 8;

    private readonly SrtpCipherSuite _suite;
    private readonly SrtpStreamTable _sending;
    private readonly SrtpStreamTable _receiving;
    private readonly Lock _gate = new();
    private bool _disposed;

    public SrtpContext(SrtpMasterKey masterKey, int maxStreams = SrtpStreamTable.DefaultCapacity)
        : this(masterKey.Profile, SrtpSessionKeys.Derive(masterKey), maxStreams)
    {
    }

    public SrtpContext(SrtpProfile profile, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt)
        : this(new SrtpMasterKey(profile, masterKey, masterSalt))
    {
    }

    /// <summary>For known-answer tests that give session keys directly (RFC 7714 section 16).</summary>
    internal SrtpContext(SrtpProfile profile, SrtpSessionKeys sessionKeys, int maxStreams = SrtpStreamTable.DefaultCapacity)
    {
        Profile = profile;
        _suite = SrtpCipherSuite.Create(profile, sessionKeys);
        _sending = new SrtpStreamTable(maxStreams);
        _receiving = new SrtpStreamTable(maxStreams);
    }

    public SrtpProfile Profile { get; }

    /// <summary>Bytes <see cref="Protect"/> appends; the buffer needs this much room past the packet.</summary>
    public int RtpOverhead => _suite.RtpOverhead;

    /// <summary>Bytes <see cref="ProtectRtcp"/> appends.</summary>
    public int RtcpOverhead => _suite.RtcpOverhead;

    /// <summary>
    /// Encrypts and authenticates the RTP packet in <c>buffer[..length]</c>, appending the tag.
    /// The ROC of each SSRC follows its sequence numbers across wraps; resending an index
    /// (a retransmission) is allowed.
    /// </summary>
    public SrtpStatus Protect(Span<byte> buffer, int length, out int newLength)
    {
        newLength = 0;
        if (!TryReadRtpHeader(buffer, length, 0, out int headerLength, out uint ssrc, out ushort sequence))
        {
            return SrtpStatus.Malformed;
        }

        if (buffer.Length - length < _suite.RtpOverhead)
        {
            return SrtpStatus.BufferTooSmall;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            SrtpStream? stream = _sending.GetOrAdd(ssrc);
            if (stream is null)
            {
                return SrtpStatus.TooManyStreams;
            }

            ulong index = sequence;
            if (stream.SentRtpStarted)
            {
                index = SrtpPacketIndex.Estimate(stream.SentRtpHighest, sequence);
            }

            if (!stream.SentRtpStarted || index > stream.SentRtpHighest)
            {
                stream.SentRtpHighest = index;
                stream.SentRtpStarted = true;
            }

            _suite.ProtectRtp(buffer, length, headerLength, ssrc, index);
        }

        newLength = length + _suite.RtpOverhead;
        return SrtpStatus.Ok;
    }

    /// <summary>
    /// Authenticates, replay-checks and decrypts the SRTP packet in <c>buffer[..length]</c>.
    /// On <see cref="SrtpStatus.Ok"/> the plain RTP packet is <c>buffer[..newLength]</c>;
    /// on any failure the packet is to be dropped.
    /// </summary>
    public SrtpStatus Unprotect(Span<byte> buffer, int length, out int newLength)
    {
        newLength = 0;
        if (!TryReadRtpHeader(buffer, length, _suite.RtpOverhead, out int headerLength, out uint ssrc, out ushort sequence))
        {
            return SrtpStatus.Malformed;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            SrtpStream? stream = _receiving.Find(ssrc);

            // An unknown SSRC starts at ROC 0 (RFC 3711 section 3.3.1); its state is kept only
            // once the packet proves itself, so forged SSRCs leave no trace.
            ulong index = sequence;
            if (stream is not null && stream.Rtp.Started)
            {
                index = SrtpPacketIndex.Estimate(stream.Rtp.Highest, sequence);
                SrtpStatus replay = stream.Rtp.Check(index);
                if (replay != SrtpStatus.Ok)
                {
                    return replay;
                }
            }

            if (!_suite.UnprotectRtp(buffer, length, headerLength, ssrc, index))
            {
                return SrtpStatus.AuthFailed;
            }

            stream ??= _receiving.GetOrAdd(ssrc);
            if (stream is null)
            {
                return SrtpStatus.TooManyStreams;
            }

            stream.Rtp.Accept(index);
        }

        newLength = length - _suite.RtpOverhead;
        return SrtpStatus.Ok;
    }

    /// <summary>Encrypts and authenticates the (compound) RTCP packet in <c>buffer[..length]</c>.</summary>
    public SrtpStatus ProtectRtcp(Span<byte> buffer, int length, out int newLength)
    {
        newLength = 0;
        if (!TryReadRtcpHeader(buffer, length, 0, out uint ssrc))
        {
            return SrtpStatus.Malformed;
        }

        if (buffer.Length - length < _suite.RtcpOverhead)
        {
            return SrtpStatus.BufferTooSmall;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            SrtpStream? stream = _sending.GetOrAdd(ssrc);
            if (stream is null)
            {
                return SrtpStatus.TooManyStreams;
            }

            uint index = stream.NextRtcpIndex;
            stream.NextRtcpIndex = (index + 1) & 0x7FFF_FFFFu;
            _suite.ProtectRtcp(buffer, length, ssrc, index);
        }

        newLength = length + _suite.RtcpOverhead;
        return SrtpStatus.Ok;
    }

    /// <summary>Authenticates, replay-checks and (when its E flag says so) decrypts an SRTCP packet.</summary>
    public SrtpStatus UnprotectRtcp(Span<byte> buffer, int length, out int newLength)
    {
        newLength = 0;
        if (!TryReadRtcpHeader(buffer, length, _suite.RtcpOverhead, out uint ssrc))
        {
            return SrtpStatus.Malformed;
        }

        uint word = BinaryPrimitives.ReadUInt32BigEndian(buffer.Slice(length - _suite.RtcpIndexFromEnd));
        bool encrypted = (word & 0x8000_0000u) != 0;
        uint index = word & 0x7FFF_FFFFu;

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            SrtpStream? stream = _receiving.Find(ssrc);
            if (stream is not null)
            {
                SrtpStatus replay = stream.Rtcp.Check(index);
                if (replay != SrtpStatus.Ok)
                {
                    return replay;
                }
            }

            if (!_suite.UnprotectRtcp(buffer, length, ssrc, index, encrypted))
            {
                return SrtpStatus.AuthFailed;
            }

            stream ??= _receiving.GetOrAdd(ssrc);
            if (stream is null)
            {
                return SrtpStatus.TooManyStreams;
            }

            stream.Rtcp.Accept(index);
        }

        newLength = length - _suite.RtcpOverhead;
        return SrtpStatus.Ok;
    }

    /// <summary>Forgets an SSRC in both directions (a track was removed).</summary>
    public void RemoveStream(uint ssrc)
    {
        lock (_gate)
        {
            _sending.Remove(ssrc);
            _receiving.Remove(ssrc);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _suite.Dispose();
        }
    }

    /// <summary>
    /// Reads what SRTP needs from an RTP header: its full length (fixed part, CSRCs, extension;
    /// all of it is authenticated but not encrypted) and the SSRC and sequence number.
    /// <paramref name="trailer"/> bytes at the end belong to SRTP, not to the payload.
    /// </summary>
    private static bool TryReadRtpHeader(ReadOnlySpan<byte> buffer, int length, int trailer, out int headerLength, out uint ssrc, out ushort sequence)
    {
        headerLength = 0;
        ssrc = 0;
        sequence = 0;
        if (length < RtpFixedHeaderLength + trailer || length > buffer.Length || (buffer[0] >> 6) != 2)
        {
            return false;
        }

        int csrcCount = buffer[0] & 0x0F;
        headerLength = RtpFixedHeaderLength + 4 * csrcCount;
        if ((buffer[0] & 0x10) != 0)
        {
            if (headerLength + 4 > length - trailer)
            {
                return false;
            }

            headerLength += 4 + 4 * BinaryPrimitives.ReadUInt16BigEndian(buffer.Slice(headerLength + 2));
        }

        if (headerLength > length - trailer)
        {
            return false;
        }

        sequence = BinaryPrimitives.ReadUInt16BigEndian(buffer.Slice(2));
        ssrc = BinaryPrimitives.ReadUInt32BigEndian(buffer.Slice(8));
        return true;
    }

    private static bool TryReadRtcpHeader(ReadOnlySpan<byte> buffer, int length, int trailer, out uint ssrc)
    {
        ssrc = 0;
        if (length < RtcpHeaderLength + trailer || length > buffer.Length || (buffer[0] >> 6) != 2)
        {
            return false;
        }

        ssrc = BinaryPrimitives.ReadUInt32BigEndian(buffer.Slice(4));
        return true;
    }
}
