using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Sfu.Client.Media;
using Sfu.Client.Negotiation;
using Sfu.Client.Signaling;
using Sfu.Client.Transport;
using Sfu.Media.Rtcp;
using Sfu.Media.Rtp;
using Sfu.Media.Sdp;
using Sfu.Media.Stun;

namespace Sfu.Client;

public sealed class SubscriberOptions
{
    public ClientTransportOptions Transport { get; init; } = new();

    /// <summary>Send the server's transport here instead of its candidate (a relay in front of it).</summary>
    public IPEndPoint? SendTo { get; init; }

    /// <summary>How often to send an RR for every stream received; zero turns them off.</summary>
    public TimeSpan ReceiverReportInterval { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// A subscribing PeerConnection: answers every <c>subscribe-offer</c> (recvonly, setup active), follows
/// ICE restarts, and counts what arrives per SSRC: packets, gaps, losses, duplicates, retransmissions and
/// keyframes. It can ask the server for a keyframe (PLI), for retransmissions (NACK), and sends RRs.
/// </summary>
public sealed class Subscriber : IClientMediaListener, IDisposable
{
    private readonly SignalingClient? _signaling;
    private readonly SubscriberOptions _options;
    private readonly Lock _gate = new();
    private readonly Dictionary<uint, ReceivedStream> _streams = [];
    private readonly LatencyHistogram _latency = new();
    private readonly Dictionary<uint, uint> _rtxToMedia = [];
    private readonly Dictionary<uint, (string Mid, bool Vp8)> _signalled = [];
    private readonly HashSet<int> _vp8PayloadTypes = [];
    private readonly byte[] _rtcp = new byte[1500];
    private readonly Timer? _reports;
    private readonly uint _ssrc = (uint)Random.Shared.NextInt64(1, uint.MaxValue);
    private readonly SemaphoreSlim _negotiating = new(1, 1);
    private int _midExtensionId;
    private bool _started;
    private string? _remoteUfrag; // the server's ICE ufrag in the last offer that carried a transport
    private long _offersAnswered;
    private long _offersReceived;

    public Subscriber(SignalingClient signaling, SubscriberOptions? options = null)
        : this(options)
    {
        _signaling = signaling;
        signaling.EventReceived += OnSignalingEvent;
    }

    /// <summary>A subscriber for a server reached through other signaling: offers go to <see cref="Accept"/>.</summary>
    public Subscriber(SubscriberOptions? options = null)
    {
        _options = options ?? new SubscriberOptions();
        Transport = new ClientTransport(_options.Transport) { Listener = this };
        if (_options.ReceiverReportInterval > TimeSpan.Zero)
        {
            _reports = new Timer(_ => SendReceiverReport(), null, _options.ReceiverReportInterval, _options.ReceiverReportInterval);
        }
    }

    public ClientTransport Transport { get; }

    /// <summary>The last offer answered, and the answer sent.</summary>
    public SessionDescription? Offer { get; private set; }

    public SessionDescription? Answer { get; private set; }

    public long OffersAnswered => Interlocked.Read(ref _offersAnswered);

    /// <summary>Offers this subscriber began to answer, answered or not (<see cref="OffersAnswered"/> counts those the server accepted).</summary>
    public long OffersReceived => Interlocked.Read(ref _offersReceived);

    /// <summary>Errors from answering offers (e.g. the server refused the answer); empty when all went well.</summary>
    public List<string> NegotiationErrors { get; } = [];

    /// <summary>Raised after each offer was answered and the server accepted the answer.</summary>
    public event Action<Subscriber>? Negotiated;

    /// <summary>A copy of every stream's counters now.</summary>
    public IReadOnlyList<ReceivedStreamStats> Streams
    {
        get
        {
            lock (_gate)
            {
                return [.. _streams.Values.Select(s => s.Snapshot())];
            }
        }
    }

    public ReceivedStreamStats? FindStream(uint ssrc) => Streams.FirstOrDefault(s => s.Ssrc == ssrc);

    public ReceivedStreamStats? FindByMid(string mid) => Streams.FirstOrDefault(s => s.Mid == mid && !s.IsRtx);

    /// <summary>Answers the offer in <paramref name="e"/>; called for every <c>subscribe-offer</c> event.</summary>
    public async Task AnswerAsync(SignalingEvent e)
    {
        Interlocked.Increment(ref _offersReceived);
        await _negotiating.WaitAsync();
        try
        {
            var signaling = _signaling ?? throw new InvalidOperationException("this subscriber has no signaling client; use Accept");
            var offer = SdpParser.Parse(e.GetString("sdp") ?? throw new InvalidOperationException("subscribe-offer without sdp"));
            var version = e.Message.GetProperty("version").GetInt64();
            var answer = Accept(offer);
            await signaling.SubscribeAnswerAsync(SdpWriter.Write(answer), version);
            Interlocked.Increment(ref _offersAnswered);
            Negotiated?.Invoke(this);
        }
        // Nobody awaits this (it runs from the event handler), so every failure, a lost socket's included, is recorded for
        // WaitForOffersAnsweredAsync to report.
        catch (Exception ex) when (ex is SignalingException or SdpParseException or SdpNegotiationException or FormatException or TimeoutException or JsonException
            or InvalidOperationException or WebSocketException or ObjectDisposedException)
        {
            lock (NegotiationErrors)
            {
                NegotiationErrors.Add(ex.Message);
            }
        }
        finally
        {
            _negotiating.Release();
        }
    }

    /// <summary>
    /// Applies a subscribe offer (starting ICE on the first, restarting it when the server's credentials change) and
    /// returns the answer; <see cref="AnswerAsync"/> sends it over our signaling, other signaling sends it itself.
    /// </summary>
    public SessionDescription Accept(SessionDescription offer)
    {
        Learn(offer);
        // An offer whose every m-line is closed (all its tracks went away) carries no transport: nothing to
        // start or restart, only an answer that closes the same lines.
        if (offer.Media.Any(m => !m.IsRejected))
        {
            var remote = RemoteTransport.FromSdp(offer);
            if (ClientSdp.DataChannelsOf(offer) is { } dataChannels)
            {
                // The server opens a channel per data track once the association is up: Transport.DataChannels tells.
                Transport.DataChannels.Enable(dataChannels);
            }

            if (!_started)
            {
                Transport.Start(remote, _options.SendTo);
                _started = true;
                _remoteUfrag = remote.Ice.Ufrag;
            }
            else if (_remoteUfrag != remote.Ice.Ufrag)
            {
                // ICE restart: both sides take new credentials (RFC 8445 9); DTLS and SRTP carry on.
                Transport.RestartIce(remote.Ice, IceCredentials.Generate());
                _remoteUfrag = remote.Ice.Ufrag;
            }
        }

        var answer = ClientSdp.SubscribeAnswer(offer, Transport, Answer?.Origin);
        Offer = offer;
        Answer = answer;
        return answer;
    }

    /// <summary>Adds the one-way latencies of the stamped video packets received so far (<see cref="PublisherOptions.StampSendTime"/>) to <paramref name="total"/>.</summary>
    public void AddLatencyTo(LatencyHistogram total)
    {
        lock (_gate)
        {
            total.Add(_latency);
        }
    }

    /// <summary>Forgets the latencies recorded so far (the start of a measurement window).</summary>
    public void ClearLatency()
    {
        lock (_gate)
        {
            _latency.Clear();
        }
    }

    /// <summary>
    /// Waits until <see cref="OffersAnswered"/> reaches <paramref name="count"/>; on timeout, says how many offers arrived
    /// at all and why the answers failed, so that a server that sent no offer is told apart from an answer that failed.
    /// </summary>
    public async Task WaitForOffersAnsweredAsync(long count, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (OffersAnswered < count)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                string errors;
                lock (NegotiationErrors)
                {
                    errors = NegotiationErrors.Count == 0 ? "none" : string.Join("; ", NegotiationErrors);
                }

                var received = OffersReceived == 0 ? "no subscribe-offer arrived" : $"{OffersReceived} arrived";
                throw new TimeoutException($"{OffersAnswered} of {count} subscribe offers answered within {timeout.TotalSeconds:F0} s ({received}); errors: {errors}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Sends a PLI for <paramref name="mediaSsrc"/> (an SSRC the server sends to us).</summary>
    public bool RequestKeyframe(uint mediaSsrc)
    {
        lock (_rtcp)
        {
            return new RtcpPli(_ssrc, mediaSsrc).TryWrite(_rtcp, out int length) && Transport.SendRtcp(_rtcp.AsSpan(0, length));
        }
    }

    /// <summary>Sends a generic NACK for <paramref name="lost"/> (ascending) on <paramref name="mediaSsrc"/>.</summary>
    public bool SendNack(uint mediaSsrc, ReadOnlySpan<ushort> lost)
    {
        lock (_rtcp)
        {
            return RtcpNack.TryWrite(_rtcp, _ssrc, mediaSsrc, lost, out int length) && Transport.SendRtcp(_rtcp.AsSpan(0, length));
        }
    }

    /// <summary>Sends one RR with a report block per media stream received (at most 31).</summary>
    public bool SendReceiverReport()
    {
        if (!Transport.IsConnected)
        {
            return false;
        }

        Span<RtcpReportBlock> blocks = stackalloc RtcpReportBlock[31];
        int count = 0;
        lock (_gate)
        {
            foreach (var stream in _streams.Values)
            {
                if (count == blocks.Length || stream.IsRtx)
                {
                    continue;
                }

                var t = stream.Tracker;
                int lost = (int)Math.Clamp(t.Lost, -0x800000, 0x7FFFFF);
                blocks[count++] = new RtcpReportBlock(stream.Ssrc, 0, lost, (uint)t.HighestExtended, 0, 0, 0);
            }
        }

        lock (_rtcp)
        {
            return RtcpReceiverReport.TryWrite(_rtcp, _ssrc, blocks[..count], out int length) && Transport.SendRtcp(_rtcp.AsSpan(0, length));
        }
    }

    public void OnRtp(ClientTransport transport, Span<byte> packet)
    {
        if (!RtpPacket.TryParse(packet, out RtpPacket rtp))
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            uint ssrc = rtp.Ssrc;
            var stream = GetOrAddStream(ssrc, rtp);
            stream.Count(rtp, now);
            if (stream.IsRtx)
            {
                // RTX payload starts with the original sequence number (RFC 4588 section 4).
                if (rtp.Payload.Length >= 2 && _rtxToMedia.TryGetValue(ssrc, out uint mediaSsrc) && _streams.TryGetValue(mediaSsrc, out var media))
                {
                    media.CountRetransmission(BinaryPrimitives.ReadUInt16BigEndian(rtp.Payload));
                }

                return;
            }

            if (!stream.Vp8)
            {
                return;
            }

            if (RtpKeyframe.IsVp8(rtp.Payload))
            {
                stream.Keyframes++;
                stream.LastKeyframeAt = now;
            }

            if (SendTimestamp.TryRead(rtp.Payload, out long sentAt))
            {
                _latency.Record((transport.DatagramReceivedAt() - sentAt) * 1_000_000 / Stopwatch.Frequency);
            }
        }
    }

    public void OnRtcp(ClientTransport transport, Span<byte> compound)
    {
        // Sender reports and the like: counted by the transport; nothing here acts on them.
    }

    public void Dispose()
    {
        if (_signaling is not null)
        {
            _signaling.EventReceived -= OnSignalingEvent;
        }

        _reports?.Dispose();
        Transport.Dispose();
    }

    private void OnSignalingEvent(SignalingEvent e)
    {
        if (e.Name == "subscribe-offer")
        {
            _ = AnswerAsync(e);
        }
    }

    /// <summary>Remembers what the offer says about SSRCs (mid, RTX pairing, codec) for the packets to come.</summary>
    private void Learn(SessionDescription offer)
    {
        lock (_gate)
        {
            foreach (var media in offer.Media.Where(m => !m.IsRejected))
            {
                foreach (var codec in media.Codecs.Where(c => c.Is(CodecNames.Vp8)))
                {
                    _vp8PayloadTypes.Add(codec.PayloadType);
                }

                if (offer.HeaderExtensionsFor(media).FirstOrDefault(x => x.Uri == RtpExtensionUris.Mid) is { } mid)
                {
                    _midExtensionId = mid.Id;
                }

                bool vp8 = media.Codecs.FirstOrDefault()?.Is(CodecNames.Vp8) == true;
                foreach (var ssrc in media.Ssrcs)
                {
                    _signalled[ssrc.Ssrc] = (media.Mid ?? "", vp8);
                }

                foreach (var group in media.SsrcGroups.Where(g => g.Semantics == SsrcGroup.Fid && g.Ssrcs.Count == 2))
                {
                    _rtxToMedia[group.Ssrcs[1]] = group.Ssrcs[0];
                }
            }
        }
    }

    private ReceivedStream GetOrAddStream(uint ssrc, RtpPacket rtp)
    {
        if (_streams.TryGetValue(ssrc, out var stream))
        {
            return stream;
        }

        string? mid = _signalled.TryGetValue(ssrc, out var known) ? known.Mid : null;
        if (mid is null && _midExtensionId > 0 && rtp.TryGetExtension(_midExtensionId, out Span<byte> value))
        {
            mid = System.Text.Encoding.ASCII.GetString(value);
        }

        stream = new ReceivedStream(ssrc, mid, _rtxToMedia.ContainsKey(ssrc), _vp8PayloadTypes.Contains(rtp.PayloadType));
        _streams.Add(ssrc, stream);
        return stream;
    }

    /// <summary>One SSRC's counters, touched only under the subscriber's lock.</summary>
    private sealed class ReceivedStream(uint ssrc, string? mid, bool isRtx, bool vp8)
    {
        public uint Ssrc { get; } = ssrc;

        public string? Mid { get; } = mid;

        public bool IsRtx { get; } = isRtx;

        public bool Vp8 { get; } = vp8;

        public SequenceTracker Tracker { get; } = new();

        public int PayloadType { get; private set; }

        public long Packets { get; private set; }

        public long Bytes { get; private set; }

        public long Retransmissions { get; private set; }

        public long Keyframes { get; set; }

        public long LastKeyframeAt { get; set; }

        public long FirstAt { get; private set; }

        public long LastAt { get; private set; }

        /// <summary>Frames whose last packet (RTP marker bit) arrived, each counted once however often it came.</summary>
        public long Frames { get; private set; }

        /// <summary>When the first key frame arrived whole (every packet from its first to its marker), 0 before.</summary>
        public long FirstCompleteKeyframeAt { get; private set; }

        // The key frame being received: its RTP timestamp, first sequence number and distinct packets so far.
        private uint? _keyframeTimestamp;
        private ushort _keyframeFirst;
        private int _keyframePackets;

        public void Count(RtpPacket rtp, long now)
        {
            if (Packets == 0)
            {
                FirstAt = now;
            }

            Packets++;
            Bytes += rtp.Packet.Length;
            PayloadType = rtp.PayloadType;
            LastAt = now;
            var outcome = Tracker.Accept(rtp.SequenceNumber);
            if (rtp.Marker && outcome is SequenceOutcome.New or SequenceOutcome.Late)
            {
                Frames++;
            }

            if (Vp8 && FirstCompleteKeyframeAt == 0 && outcome is SequenceOutcome.New or SequenceOutcome.Late)
            {
                TrackKeyframe(rtp, now);
            }
        }

        private void TrackKeyframe(RtpPacket rtp, long now)
        {
            if (RtpKeyframe.IsVp8(rtp.Payload))
            {
                _keyframeTimestamp = rtp.Timestamp;
                _keyframeFirst = rtp.SequenceNumber;
                _keyframePackets = 0;
            }

            if (_keyframeTimestamp != rtp.Timestamp)
            {
                return;
            }

            _keyframePackets++;
            if (rtp.Marker && _keyframePackets == (ushort)(rtp.SequenceNumber - _keyframeFirst) + 1)
            {
                FirstCompleteKeyframeAt = now;
            }
        }

        public void CountRetransmission(ushort originalSequence)
        {
            Retransmissions++;
            Tracker.Accept(originalSequence);
        }

        public ReceivedStreamStats Snapshot() => new(
            Ssrc, Mid, IsRtx, PayloadType, Packets, Bytes, Tracker.Distinct, Tracker.Lost, Tracker.Gaps, Tracker.Duplicates,
            Tracker.Late, Retransmissions, Keyframes, LastKeyframeAt, FirstAt, LastAt, Frames, FirstCompleteKeyframeAt);
    }
}

/// <summary>
/// What a subscriber received on one SSRC. <see cref="Lost"/> is what never arrived (retransmissions that
/// filled a gap are not lost); timestamps are <see cref="Stopwatch.GetTimestamp"/> values, 0 when never.
/// </summary>
public sealed record ReceivedStreamStats(
    uint Ssrc,
    string? Mid,
    bool IsRtx,
    int PayloadType,
    long Packets,
    long Bytes,
    long Distinct,
    long Lost,
    long Gaps,
    long Duplicates,
    long Late,
    long Retransmissions,
    long Keyframes,
    long LastKeyframeAt,
    long FirstAt,
    long LastAt,
    long Frames,
    long FirstCompleteKeyframeAt)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"ssrc {Ssrc} mid {Mid} pt {PayloadType}{(IsRtx ? " rtx" : "")}: {Packets} packets, {Lost} lost in {Gaps} gaps, {Duplicates} dup, {Late} late, {Retransmissions} rtx, {Keyframes} keyframes");
}
