using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Sfu.Client.DataChannels;
using Sfu.Client.Media;
using Sfu.Client.Negotiation;
using Sfu.Client.Signaling;
using Sfu.Client.Transport;
using Sfu.Media.DataChannels;
using Sfu.Media.Rtcp;
using Sfu.Media.Rtp;
using Sfu.Media.Sdp;

namespace Sfu.Client;

public sealed class PublisherOptions
{
    public bool Audio { get; init; } = true;

    public bool Video { get; init; } = true;

    /// <summary>Offer a data channel section, for data tracks (<see cref="Publisher.PublishDataAsync"/>).</summary>
    public bool Data { get; init; }

    public int VideoBitrate { get; init; } = 1_500_000;

    public int FrameRate { get; init; } = 30;

    /// <summary>Audio packets per second (20 ms Opus frames: 50).</summary>
    public int AudioPacketsPerSecond { get; init; } = 50;

    /// <summary>
    /// Pace video like a browser (<see cref="VideoPacer"/>): each frame's packets spread at this multiple of
    /// <see cref="VideoBitrate"/> (<see cref="VideoPacer.LibWebRtcPacingFactor"/> is libwebrtc's). 0: each frame's
    /// packets back to back, the harshest load a forwarder can get from one publisher.
    /// </summary>
    public double PacingFactor { get; init; }

    /// <summary>
    /// Stamp each video packet's send time after its VP8 payload header (<see cref="SendTimestamp"/>), so that a
    /// subscriber on the same host measures the one-way latency through the server.
    /// </summary>
    public bool StampSendTime { get; init; }

    /// <summary>Start sending synthetic media as soon as the transport connects.</summary>
    public bool AutoStartMedia { get; init; } = true;

    public ClientTransportOptions Transport { get; init; } = new();
}

/// <summary>
/// A publishing PeerConnection: offers sendonly Opus and/or VP8 (+RTX), applies the server's answer, and
/// once connected sends synthetic RTP at a real pace (30 fps video at the configured bitrate, 50 pps
/// audio), each frame's packets back to back or, with <see cref="PublisherOptions.PacingFactor"/>, spread as a
/// browser's pacer spreads them. Like a browser's encoder it sends a keyframe first and on every PLI or FIR, and
/// answers NACKs from its send history over RTX.
/// </summary>
public sealed class Publisher : IClientMediaListener, IDisposable
{
    private const int MaxPayloadPerPacket = 1100;

    private readonly PublisherOptions _options;
    private readonly SendHistory _videoHistory = new();
    private readonly byte[] _packet = new byte[ClientTransport.MaxDatagramSize];
    private readonly byte[] _retransmission = new byte[ClientTransport.MaxDatagramSize];

    // Only the transport's receive loop handles RTCP, so one scratch array serves every NACK.
    private readonly ushort[] _lost = new ushort[1024];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _rtxGate = new();
    private Task? _mediaLoop;
    private ushort _videoSequence;
    private ushort _audioSequence;
    private ushort _rtxSequence;
    private int _transportSequence;
    private uint _videoTimestamp;
    private uint _audioTimestamp;
    private ushort _pictureId;
    private int _keyframeRequested = 1;

    // The frame being sent: packets are written one at a time, so that a pacer can spread them.
    private int _framePackets;
    private int _framePacketsSent;
    private int _frameBytes;
    private bool _frameIsKey;

    private long _plis;
    private long _firs;
    private long _nacks;
    private long _nackedPackets;
    private long _retransmissions;
    private long _keyframes;
    private long _frames;
    private long _videoPackets;
    private long _audioPackets;
    private long _rembBitrate = -1;
    private readonly System.Collections.Concurrent.ConcurrentQueue<TransportFeedbackReport> _transportFeedback = new();

    public Publisher(PublisherOptions? options = null)
    {
        _options = options ?? new PublisherOptions();
        Transport = new ClientTransport(_options.Transport) { Listener = this };
        Streams = new PublishStreams(
            _options.Audio ? RandomSsrc() : null,
            _options.Video ? RandomSsrc() : null,
            _options.Video ? RandomSsrc() : null,
            Cname: "client-" + RandomSsrc().ToString("x8", System.Globalization.CultureInfo.InvariantCulture),
            StreamId: Guid.NewGuid().ToString("N"),
            AudioTrackId: Guid.NewGuid().ToString("N"),
            VideoTrackId: Guid.NewGuid().ToString("N"));
        _videoSequence = (ushort)Random.Shared.Next(0, 65536);
        _audioSequence = (ushort)Random.Shared.Next(0, 65536);
        _rtxSequence = (ushort)Random.Shared.Next(0, 65536);
        _videoTimestamp = (uint)Random.Shared.NextInt64(0, uint.MaxValue);
        _audioTimestamp = (uint)Random.Shared.NextInt64(0, uint.MaxValue);
        _pictureId = (ushort)Random.Shared.Next(0, 0x8000);
        if (_options.AutoStartMedia)
        {
            Transport.Connected += _ => StartMedia();
        }
    }

    public ClientTransport Transport { get; }

    public PublishStreams Streams { get; }

    /// <summary>The offer sent, once <see cref="PublishAsync"/> ran.</summary>
    public SessionDescription? Offer { get; private set; }

    /// <summary>The server's answer.</summary>
    public SessionDescription? Answer { get; private set; }

    public long PlisReceived => Interlocked.Read(ref _plis);

    public long FirsReceived => Interlocked.Read(ref _firs);

    public long NacksReceived => Interlocked.Read(ref _nacks);

    /// <summary>Every transport-cc feedback packet received, in order.</summary>
    public IReadOnlyCollection<TransportFeedbackReport> TransportFeedback => _transportFeedback;

    /// <summary>The bitrate of the last REMB received, bits/s; -1 before the first.</summary>
    public long RembBitrate => Interlocked.Read(ref _rembBitrate);

    /// <summary>Transport-wide sequence numbers used so far (they start at 1).</summary>
    public int TransportSequenceNumbersSent => Volatile.Read(ref _transportSequence);

    /// <summary>Sequence numbers asked for across all NACKs.</summary>
    public long NackedPackets => Interlocked.Read(ref _nackedPackets);

    public long Retransmissions => Interlocked.Read(ref _retransmissions);

    public long KeyframesSent => Interlocked.Read(ref _keyframes);

    public long FramesSent => Interlocked.Read(ref _frames);

    public long VideoPacketsSent => Interlocked.Read(ref _videoPackets);

    public long AudioPacketsSent => Interlocked.Read(ref _audioPackets);

    /// <summary>
    /// Sends the offer as <c>publish</c>, applies the answer and starts ICE. Media starts once connected
    /// (unless <see cref="PublisherOptions.AutoStartMedia"/> is off).
    /// </summary>
    /// <param name="sendTo">Send to this address instead of the server's candidate (a relay).</param>
    public async Task PublishAsync(SignalingClient signaling, IPEndPoint? sendTo = null)
    {
        var answerText = await signaling.PublishAsync(SdpWriter.Write(CreateOffer()));
        Accept(SdpParser.Parse(answerText), sendTo);
    }

    /// <summary>The publish offer (also <see cref="Offer"/>), for a server reached through other signaling.</summary>
    public SessionDescription CreateOffer() => Offer = ClientSdp.PublishOffer(Transport, Streams, _options.Data);

    /// <summary>Applies the server's answer to <see cref="CreateOffer"/>'s offer and starts ICE.</summary>
    /// <param name="sendTo">Send to this address instead of the server's candidate (a relay).</param>
    public void Accept(SessionDescription answer, IPEndPoint? sendTo = null)
    {
        Answer = answer;
        if (ClientSdp.DataChannelsOf(answer) is { } dataChannels)
        {
            Transport.DataChannels.Enable(dataChannels);
        }

        Transport.Start(RemoteTransport.FromSdp(answer), sendTo);
    }

    /// <summary>
    /// Publishes a data track: opens data channel <paramref name="label"/> on the publish transport once its SCTP
    /// association is up (PROTOCOL.md, "Data tracks"); what it sends reaches every peer that receives the track. Needs
    /// <see cref="PublisherOptions.Data"/>. Without retransmission or lifetime limits the channel is reliable.
    /// </summary>
    public async Task<ClientDataChannel> PublishDataAsync(string label, bool ordered = true, int? maxRetransmits = null, int? maxPacketLifeTimeMs = null, TimeSpan? timeout = null)
    {
        if (!_options.Data)
        {
            throw new InvalidOperationException("the publisher offered no data section: set PublisherOptions.Data");
        }

        await Transport.DataChannels.WaitEstablishedAsync(timeout ?? TimeSpan.FromSeconds(10));
        return Transport.DataChannels.Open(new DataChannelParameters(label, "", ordered, maxRetransmits, maxPacketLifeTimeMs))
            ?? throw new InvalidOperationException("the SCTP association refused to open the channel");
    }

    /// <summary>Starts the synthetic media pump (idempotent).</summary>
    public void StartMedia()
    {
        lock (_stopping)
        {
            _mediaLoop ??= Task.Run(MediaLoopAsync);
        }
    }

    /// <summary>Makes the next video frame a keyframe, as a PLI would.</summary>
    public void RequestKeyframe() => Volatile.Write(ref _keyframeRequested, 1);

    public void OnRtp(ClientTransport transport, Span<byte> packet)
    {
        // A publish transport receives no media.
    }

    public void OnRtcp(ClientTransport transport, Span<byte> compound)
    {
        var reader = new RtcpCompoundReader(compound);
        while (reader.TryReadNext(out RtcpHeader header, out ReadOnlySpan<byte> packet))
        {
            if (header.PacketType == RtcpPacketType.PayloadFeedback && RtcpPli.TryParse(packet, out RtcpPli pli))
            {
                if (pli.MediaSsrc == Streams.VideoSsrc)
                {
                    Interlocked.Increment(ref _plis);
                    RequestKeyframe();
                }
            }
            else if (header.PacketType == RtcpPacketType.PayloadFeedback && RtcpFir.TryParse(packet, out RtcpFir fir))
            {
                for (int i = 0; i < fir.EntryCount; i++)
                {
                    if (fir.GetEntry(i).Ssrc == Streams.VideoSsrc)
                    {
                        Interlocked.Increment(ref _firs);
                        RequestKeyframe();
                    }
                }
            }
            else if (header.PacketType == RtcpPacketType.PayloadFeedback && RtcpRemb.TryParse(packet, out RtcpRemb remb))
            {
                Interlocked.Exchange(ref _rembBitrate, (long)Math.Min(remb.Bitrate, long.MaxValue));
            }
            else if (header.PacketType == RtcpPacketType.TransportFeedback && RtcpTransportFeedback.TryParse(packet, out RtcpTransportFeedback feedback))
            {
                _transportFeedback.Enqueue(new TransportFeedbackReport(feedback.BaseSequenceNumber, feedback.PacketStatusCount, feedback.ReceivedCount, feedback.FeedbackPacketCount));
            }
            else if (header.PacketType == RtcpPacketType.TransportFeedback && RtcpNack.TryParse(packet, out RtcpNack nack) && nack.MediaSsrc == Streams.VideoSsrc)
            {
                Interlocked.Increment(ref _nacks);
                int count = nack.CopyLostSequenceNumbers(_lost);
                Interlocked.Add(ref _nackedPackets, count);
                foreach (ushort sequence in _lost.AsSpan(0, count))
                {
                    Retransmit(sequence);
                }
            }
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        try
        {
            _mediaLoop?.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }

        Transport.Dispose();
    }

    private static uint RandomSsrc() => BinaryPrimitives.ReadUInt32LittleEndian(RandomNumberGenerator.GetBytes(4)) | 1;

    private async Task MediaLoopAsync()
    {
        // One clock for both streams; each sends whatever fell due since the last tick, so a late tick
        // catches up instead of drifting. A paced publisher looks every burst window, an unpaced one every 5 ms.
        long frequency = Stopwatch.Frequency;
        long frameInterval = frequency / _options.FrameRate;
        long audioInterval = frequency / _options.AudioPacketsPerSecond;
        long start = Stopwatch.GetTimestamp();
        long nextFrame = start;
        long nextAudio = start;
        var pacer = _options.PacingFactor > 0 ? new VideoPacer((long)(_options.VideoBitrate * _options.PacingFactor), frequency) : null;
        using var timer = new PeriodicTimer(pacer is null ? TimeSpan.FromMilliseconds(5) : VideoPacer.BurstWindow);
        try
        {
            do
            {
                long now = Stopwatch.GetTimestamp();
                if (Streams.VideoSsrc is not null)
                {
                    nextFrame = SendDueVideo(now, nextFrame, frameInterval, pacer);
                }

                // Audio is never held back: libwebrtc's pacer sends audio ahead of video.
                while (Streams.AudioSsrc is not null && nextAudio <= now)
                {
                    SendAudio();
                    nextAudio += audioInterval;
                }
            }
            while (await timer.WaitForNextTickAsync(_stopping.Token));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Sends the video packets due at <paramref name="now"/>: without a pacer every frame due, whole; with one, as many
    /// as it lets go. A frame falls due only once the one before it is out. Returns when the next frame falls due.
    /// </summary>
    private long SendDueVideo(long now, long nextFrame, long frameInterval, VideoPacer? pacer)
    {
        while (true)
        {
            if (_framePacketsSent == _framePackets)
            {
                if (nextFrame > now)
                {
                    return nextFrame;
                }

                BeginFrame();
                pacer?.FrameStarted(now);
                nextFrame += frameInterval;
            }

            if (pacer is not null && !pacer.CanSend(now))
            {
                return nextFrame;
            }

            int sent = SendVideoPacket();
            pacer?.OnSent(sent);
        }
    }

    private void BeginFrame()
    {
        _frameIsKey = Interlocked.Exchange(ref _keyframeRequested, 0) == 1;
        _frameBytes = Math.Max(Vp8Payload.MaxHeaderLength, _options.VideoBitrate / 8 / _options.FrameRate);
        _framePackets = (_frameBytes + MaxPayloadPerPacket - 1) / MaxPayloadPerPacket;
        _framePacketsSent = 0;
    }

    /// <summary>Sends the current frame's next packet; returns its size.</summary>
    private int SendVideoPacket()
    {
        int i = _framePacketsSent;
        bool last = i == _framePackets - 1;
        int payloadLength = last ? _frameBytes - (i * MaxPayloadPerPacket) : MaxPayloadPerPacket;
        int at = WriteHeader(ClientSdp.Vp8PayloadType, _videoSequence, _videoTimestamp, Streams.VideoSsrc!.Value, marker: last, ClientSdp.VideoMid);
        int payloadAt = at;
        at += Vp8Payload.Write(_packet.AsSpan(at), payloadLength, _pictureId, startOfFrame: i == 0, _frameIsKey, fill: (byte)_videoSequence);
        if (_options.StampSendTime)
        {
            var payload = _packet.AsSpan(payloadAt, at - payloadAt);
            SendTimestamp.TryWrite(payload[Vp8Payload.HeaderLength(payload)..], Stopwatch.GetTimestamp());
        }

        _videoHistory.Store(_videoSequence, _packet.AsSpan(0, at));
        if (Transport.SendRtp(_packet.AsSpan(0, at)))
        {
            Interlocked.Increment(ref _videoPackets);
        }

        _videoSequence++;
        _framePacketsSent++;
        if (last)
        {
            _pictureId = (ushort)((_pictureId + 1) & 0x7FFF);
            _videoTimestamp += (uint)(90000 / _options.FrameRate);
            Interlocked.Increment(ref _frames);
            if (_frameIsKey)
            {
                Interlocked.Increment(ref _keyframes);
            }
        }

        return at;
    }

    private void SendAudio()
    {
        int at = WriteHeader(ClientSdp.OpusPayloadType, _audioSequence, _audioTimestamp, Streams.AudioSsrc!.Value, marker: false, ClientSdp.AudioMid);
        _packet.AsSpan(at, 60).Fill((byte)_audioSequence);
        if (Transport.SendRtp(_packet.AsSpan(0, at + 60)))
        {
            Interlocked.Increment(ref _audioPackets);
        }

        _audioSequence++;
        _audioTimestamp += (uint)(48000 / _options.AudioPacketsPerSecond);
    }

    private int WriteHeader(int payloadType, ushort sequence, uint timestamp, uint ssrc, bool marker, string mid)
    {
        var header = new RtpHeaderWriter(_packet, (byte)payloadType, sequence, timestamp, ssrc, marker);
        WriteExtensions(ref header, mid, NextTransportSequence());
        return header.Finish();
    }

    // Transport-wide: media and retransmissions (on different threads) share one sequence.
    private ushort NextTransportSequence() => (ushort)Interlocked.Increment(ref _transportSequence);

    private static void WriteExtensions(ref RtpHeaderWriter header, string mid, ushort transportSequence)
    {
        Span<byte> value = stackalloc byte[3];

        // abs-send-time: seconds in 6.18 fixed point, 24 bits.
        long ticks = Stopwatch.GetTimestamp();
        ulong absSendTime = (ulong)((UInt128)(ulong)ticks * (1UL << 18) / (ulong)Stopwatch.Frequency) & 0xFFFFFF;
        value[0] = (byte)(absSendTime >> 16);
        value[1] = (byte)(absSendTime >> 8);
        value[2] = (byte)absSendTime;
        header.AddExtension(ClientSdp.AbsSendTimeId, value);
        BinaryPrimitives.WriteUInt16BigEndian(value, transportSequence);
        header.AddExtension(ClientSdp.TransportWideCcId, value[..2]);
        value[0] = (byte)mid[0];
        header.AddExtension(ClientSdp.MidId, value[..1]);
    }

    /// <summary>Resends one packet from history over RTX (RFC 4588: original sequence number, then the payload).</summary>
    private void Retransmit(ushort sequence)
    {
        lock (_rtxGate)
        {
            Span<byte> original = stackalloc byte[ClientTransport.MaxDatagramSize];
            int length = _videoHistory.TryCopy(sequence, original);
            if (length == 0 || !RtpPacket.TryParse(original[..length], out RtpPacket packet))
            {
                return;
            }

            var header = new RtpHeaderWriter(_retransmission, ClientSdp.RtxPayloadType, _rtxSequence++, packet.Timestamp, Streams.VideoRtxSsrc!.Value, packet.Marker);
            WriteExtensions(ref header, ClientSdp.VideoMid, NextTransportSequence());
            int at = header.Finish();
            BinaryPrimitives.WriteUInt16BigEndian(_retransmission.AsSpan(at), sequence);
            packet.Payload.CopyTo(_retransmission.AsSpan(at + 2));
            if (Transport.SendRtp(_retransmission.AsSpan(0, at + 2 + packet.Payload.Length)))
            {
                Interlocked.Increment(ref _retransmissions);
            }
        }
    }
}

/// <summary>What one transport-cc feedback packet from the server reported.</summary>
public sealed record TransportFeedbackReport(ushort BaseSequenceNumber, ushort PacketStatusCount, int ReceivedCount, byte FeedbackPacketCount);
