using System.Buffers.Binary;
using System.Diagnostics;
using Sfu.Client;
using Sfu.Media.Sdp;
using Sfu.Tests.Infrastructure;
using Sfu.Tests.Media.Congestion;
using Sfu.Tests.Media.Rebinding;

namespace Sfu.Tests.Media.Forwarding;

/// <summary>
/// Per-subscriber bandwidth estimation through the real server: the subscriber sits behind the relay, which
/// notes when each packet from the server arrives and under which transport-wide sequence number (RTP headers
/// are not encrypted by SRTP); the test sends transport-cc feedback on those arrivals from the subscriber's own
/// transport, as a browser would, and reads the server's estimate from /metrics.
/// </summary>
[Category("Media")]
[NonParallelizable]
public sealed class BandwidthEstimationTests
{
    private const string Estimate = "sfu_media_bandwidth_estimate";
    private const string ProbeClusters = "sfu_media_probe_clusters_sent_total";
    private const string Restarts = "sfu_media_bandwidth_estimate_restarts_total";

    [Test]
    public async Task SubscriberSendingTransportCc_IsProbed_AndItsEstimateRisesAboveTheStart()
    {
        await using var server = await SfuTestServer.StartAsync();
        var watcher = new FeedbackSender();
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: true, relayCreated: watcher.Watch);
        using var receiver = watcher; // stops sending before the call (and the subscriber's transport) is disposed
        receiver.Start(call.Subscriber);

        // Media alone (the test publisher's few hundred kbit/s) could never justify this: only probes can.
        await UntilAsync(call, m => m[$"{Estimate}_count"] - m[$"{Estimate}_bucket{{le=\"1000000\"}}"] >= 1,
            "the server estimated more than 1 Mbit/s for this subscriber (it starts at 300 kbit/s)");

        var metrics = await MetricsSnapshot.ScrapeAsync(server);
        var rtxSsrc = call.Subscriber.Offer!.Media.First(m => m.Kind == "video" && !m.IsRejected).SsrcGroups.Single().Ssrcs[1];
        var (stamped, span, padding) = receiver.Seen(rtxSsrc);
        Assert.Multiple(() =>
        {
            Assert.That(metrics["sfu_media_transport_cc_received_total"], Is.GreaterThanOrEqualTo(1));
            Assert.That(metrics[ProbeClusters], Is.GreaterThanOrEqualTo(2), "the two start-up clusters");
            Assert.That(padding, Is.GreaterThanOrEqualTo(ProbeClusterMinPackets * 2), "probe padding reached the subscriber");
            Assert.That(stamped, Is.EqualTo(span), "every packet, media and padding, carried the next transport-wide number");
            Assert.That(call.Subscriber.Transport.SrtpFailures, Is.Zero, "probe packets are valid SRTP the subscriber accepts");
        });
    }

    [Test]
    public async Task SubscriberMovesToANewAddress_EstimateRestarts_AndProbesOnceFeedbackComesFromThere()
    {
        await using var server = await SfuTestServer.StartAsync();
        var watcher = new FeedbackSender();
        await using var call = await RebindingCall.StartAsync(server, subscriberBehindRelay: true, relayCreated: watcher.Watch);
        using var receiver = watcher; // stops sending before the call (and the subscriber's transport) is disposed
        receiver.Start(call.Subscriber);
        await call.UntilMetricAsync(ProbeClusters, 2);
        var restartsBefore = await call.MetricAsync(Restarts);
        var probesBefore = await call.MetricAsync(ProbeClusters);

        call.Relay!.RebindUpstream();
        call.Subscriber.Transport.SendCheck();
        await call.UntilMetricAsync(Restarts, restartsBefore + 1);
        await call.UntilMetricAsync(ProbeClusters, probesBefore + 1);
    }

    // The smallest cluster's worth of full padding packets; the start-up clusters carry far more than media does.
    private const int ProbeClusterMinPackets = Sfu.Media.Congestion.ProbeCluster.MinBytes / Sfu.Media.Congestion.ProbeCluster.MaxPacketBytes;

    private static async Task UntilAsync(RebindingCall call, Func<MetricsSnapshot, bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var metrics = await MetricsSnapshot.ScrapeAsync(call.Server);
            if (condition(metrics)) return;
            if (clock.Elapsed > RebindingCall.Wait) Assert.Fail($"timed out waiting until {what}: {metrics}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// The subscriber's transport-cc side: records (sequence, arrival) of what the relay passes to the subscriber
    /// from the first packet on, and once started sends feedback on it every 50 ms through the subscriber's transport.
    /// </summary>
    private sealed class FeedbackSender : IDisposable
    {
        // The server writes the same ids in every subscribe offer, and the test client answers with them.
        private static readonly int ExtensionId = SubscribeOfferBuilder.Extensions.First(e => e.Uri == RtpExtensionUris.TransportWideCc).Id;

        private readonly Lock _gate = new();
        private readonly List<long?> _arrivals = [];
        private readonly Dictionary<uint, int> _paddedBySsrc = [];
        private readonly CancellationTokenSource _stop = new();
        private UdpRelay? _relay;
        private Subscriber? _subscriber;
        private Task? _loop;
        private long _first = -1;
        private long _last;
        private int _reported;
        private int _stamped;
        private byte _count;

        public void Watch(UdpRelay relay)
        {
            _relay = relay;
            relay.ServerToClient.DropWhen = datagram =>
            {
                Record(datagram.Span);
                return false;
            };
        }

        public void Start(Subscriber subscriber)
        {
            _subscriber = subscriber;
            _loop = Task.Run(LoopAsync);
        }

        /// <summary>
        /// Packets that carried a transport-wide number, the range those numbers span, and packets with the
        /// padding bit on <paramref name="ssrc"/>.
        /// </summary>
        public (int Stamped, long Span, int Padded) Seen(uint ssrc)
        {
            lock (_gate) return (_stamped, _last - _first + 1, _paddedBySsrc.GetValueOrDefault(ssrc));
        }

        private void Record(ReadOnlySpan<byte> datagram)
        {
            var arrival = Stopwatch.GetTimestamp() * 1_000_000 / Stopwatch.Frequency;
            if (datagram.Length < 12 || datagram[0] >> 6 != 2 || datagram[1] is >= 192 and <= 223 || (datagram[0] & 0x10) == 0) return;
            if (!TryReadTransportSequence(datagram, ExtensionId, out var sequence)) return;
            lock (_gate)
            {
                _stamped++;
                if ((datagram[0] & 0x20) != 0) _paddedBySsrc[BinaryPrimitives.ReadUInt32BigEndian(datagram[8..])] = _paddedBySsrc.GetValueOrDefault(BinaryPrimitives.ReadUInt32BigEndian(datagram[8..])) + 1;
                if (_first < 0) _first = _last = sequence;
                var unwrapped = _last + (short)(sequence - (ushort)_last);
                _last = Math.Max(_last, unwrapped);
                var index = (int)(unwrapped - _first);
                if (index < 0) return;
                while (_arrivals.Count <= index) _arrivals.Add(null);
                _arrivals[index] = arrival;
            }
        }

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(50, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                byte[]? feedback = null;
                lock (_gate)
                {
                    if (_arrivals.Skip(_reported).Any(a => a is not null))
                    {
                        var arrivals = _arrivals.GetRange(_reported, _arrivals.Count - _reported);
                        feedback = TransportFeedbackBuilder.FromArrivals((ushort)(_first + _reported), arrivals, _count++);
                        _reported = _arrivals.Count;
                    }
                }
                if (feedback is not null) _subscriber!.Transport.SendRtcp(feedback);
            }
        }

        // The one-byte header extension block (RFC 8285) sits in the clear between the fixed header and the payload.
        private static bool TryReadTransportSequence(ReadOnlySpan<byte> packet, int id, out ushort sequence)
        {
            sequence = 0;
            var offset = 12 + (4 * (packet[0] & 0x0F));
            if (packet.Length < offset + 4 || BinaryPrimitives.ReadUInt16BigEndian(packet[offset..]) != 0xBEDE) return false;
            var end = offset + 4 + (4 * BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]));
            if (end > packet.Length) return false;
            for (var i = offset + 4; i < end;)
            {
                var element = packet[i];
                if (element == 0)
                {
                    i++;
                    continue;
                }
                var elementId = element >> 4;
                var length = (element & 0x0F) + 1;
                if (elementId == 15 || i + 1 + length > end) return false;
                if (elementId == id && length == 2)
                {
                    sequence = BinaryPrimitives.ReadUInt16BigEndian(packet[(i + 1)..]);
                    return true;
                }
                i += 1 + length;
            }
            return false;
        }

        public void Dispose()
        {
            _stop.Cancel();
            _loop?.Wait(TimeSpan.FromSeconds(5));
            if (_relay is not null) _relay.ServerToClient.DropWhen = null;
            _stop.Dispose();
        }
    }
}
