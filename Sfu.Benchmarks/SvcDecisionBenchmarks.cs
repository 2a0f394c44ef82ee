using BenchmarkDotNet.Attributes;
using Sfu.Media.Routing;
using Sfu.Media.Rtp;

namespace Sfu.Benchmarks;

/// <summary>
/// What VP9 SVC adds per packet, without the rest of forwarding: the producer reads the payload descriptor and
/// counts the packet to its spatial layer (once per packet), and each consumer decides forward, drop or end of
/// picture, then numbers the packet or skips it. The packets are Chrome's <c>L3T3_KEY</c> shape: pictures of three
/// spatial layers of two packets each, temporal layers 0, 2, 1, 2, the first a keyframe with a scalability structure.
/// </summary>
[MemoryDiagnoser]
public class SvcDecisionBenchmarks
{
    private const int Pictures = 64;
    private const int PacketsPerLayer = 2;
    private const int Packets = Pictures * 3 * PacketsPerLayer;

    private readonly byte[][] _payloads = new byte[Packets][];
    private readonly bool[] _markers = new bool[Packets];
    private SpatialLayers _layers = null!;
    private SpatialLayerFilter _filter = null!;
    private SequenceNumberRewriter _rewriter = null!;
    private ushort _sequence;
    private long _now;

    /// <summary>The subscriber's spatial layer: 2 forwards everything, 0 drops two thirds.</summary>
    [Params(0, 2)]
    public int Target { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var i = 0;
        for (var picture = 0; picture < Pictures; picture++)
        {
            var keyframe = picture == 0;
            int[] temporal = [0, 2, 1, 2];
            for (var spatialId = 0; spatialId < 3; spatialId++)
            {
                for (var p = 0; p < PacketsPerLayer; p++)
                {
                    var payload = new byte[1100];
                    var structure = keyframe && spatialId == 0 && p == 0;
                    var last = p == PacketsPerLayer - 1;
                    payload[0] = (byte)(0xA0 | (keyframe ? 0 : 0x40) | (p == 0 ? 0x08 : 0) | (last ? 0x04 : 0) | (structure ? 0x02 : 0));
                    payload[1] = (byte)(0x80 | (picture >> 8));
                    payload[2] = (byte)picture;
                    payload[3] = (byte)((temporal[picture % 4] << 5) | (spatialId << 1) | (spatialId > 0 ? 1 : 0));
                    if (structure)
                    {
                        payload[5] = (2 << 5) | 0x10;
                        for (var s = 0; s < 3; s++)
                        {
                            payload[6 + (4 * s)] = (byte)((160 << s) >> 8);
                            payload[7 + (4 * s)] = (byte)(160 << s);
                            payload[8 + (4 * s)] = (byte)((120 << s) >> 8);
                            payload[9 + (4 * s)] = (byte)(120 << s);
                        }
                    }
                    _markers[i] = last && spatialId == 2;
                    _payloads[i++] = payload;
                }
            }
        }
        _layers = new SpatialLayers(TimeProvider.System.TimestampFrequency);
        _filter = new SpatialLayerFilter();
        _filter.SetTarget(Target);
        _rewriter = new SequenceNumberRewriter(90000, TimeProvider.System.TimestampFrequency);
    }

    [Benchmark(OperationsPerInvoke = Packets)]
    public int ProducerAndOneConsumer()
    {
        var forwarded = 0;
        for (var i = 0; i < _payloads.Length; i++)
        {
            var payload = _payloads[i];
            var sequence = _sequence++;
            _now += 1000;
            if (!Vp9PayloadDescriptor.TryParse(payload, out var descriptor)) continue;
            _layers.OnPacket(descriptor, payload, payload.Length + 40, _now);
            if (_filter.Decide(descriptor, (uint)(i / 6 * 3000), _markers[i], maxTemporalId: null) == SpatialDecision.Drop)
            {
                _rewriter.Skip(1, sequence);
                continue;
            }
            if (_rewriter.TryRewrite(1, sequence, (uint)(i / 6 * 3000), _now, out _, out _)) forwarded++;
        }
        return forwarded;
    }
}
