using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Sfu.Server.Metrics;

/// <summary>
/// Collects every instrument of the server's meters (names starting with <c>Sfu.</c>) and of the runtime's own
/// (<c>System.Runtime</c>: garbage-collection pauses and counts, heap, CPU, thread pool) and renders them in the
/// Prometheus text exposition format (version 0.0.4). Counters become <c>_total</c> series, up-down counters and
/// observable gauges become gauges, histograms get cumulative <c>_bucket</c>, <c>_sum</c> and <c>_count</c>.
/// Hot paths should publish through observable instruments, which cost nothing until a scrape.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] DefaultBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, InstrumentSeries> _instruments = new();
    private readonly object _scrapeGate = new();

    public PrometheusExporter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!IsExported(instrument.Meter)) return;
            _instruments.TryAdd(instrument, new InstrumentSeries(instrument));
            listener.EnableMeasurementEvents(instrument, _instruments[instrument]);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>
    /// The server's meters, and the runtime's: a latency-sensitive server wants its GC pauses graphed next to its
    /// own figures (<c>dotnet_gc_pause_time_seconds_total</c>).
    /// </summary>
    private static bool IsExported(Meter meter) =>
        meter.Name.StartsWith("Sfu.", StringComparison.Ordinal) || meter.Name == RuntimeMeterName;

    private const string RuntimeMeterName = "System.Runtime";

    public string Scrape()
    {
        lock (_scrapeGate)
        {
            _listener.RecordObservableInstruments();
            var text = new StringBuilder(4096);
            foreach (var series in _instruments.Values.OrderBy(s => s.Name, StringComparer.Ordinal)) series.WriteTo(text);
            return text.ToString();
        }
    }

    public void Dispose() => _listener.Dispose();

    private sealed class InstrumentSeries(Instrument instrument)
    {
        private readonly ConcurrentDictionary<TagKey, Series> _series = new();
        private readonly Kind _kind = KindOf(instrument);
        private readonly double[] _buckets = BucketsOf(instrument);

        public string Name { get; } = PrometheusName(instrument);

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            // The key holds the tag values themselves, so finding an existing series allocates nothing;
            // the label text is built once, when a series first appears.
            var key = new TagKey(tags);
            if (!_series.TryGetValue(key, out var series))
                series = _series.GetOrAdd(key, new Series(_buckets.Length, Labels(tags.ToArray())));
            switch (_kind)
            {
                case Kind.Sum: series.Add(value); break;
                case Kind.Last: series.Set(value); break;
                default: series.Observe(value, _buckets); break;
            }
        }

        public void WriteTo(StringBuilder text)
        {
            if (_series.IsEmpty) return;
            if (!string.IsNullOrEmpty(instrument.Description))
                text.Append("# HELP ").Append(Name).Append(' ').Append(instrument.Description.Replace("\n", " ")).Append('\n');
            var type = _kind switch
            {
                Kind.Histogram => "histogram",
                _ when instrument is Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<double> => "counter",
                _ => "gauge",
            };
            text.Append("# TYPE ").Append(Name).Append(' ').Append(type).Append('\n');
            foreach (var series in _series.Values.OrderBy(s => s.Labels, StringComparer.Ordinal))
            {
                if (_kind == Kind.Histogram) series.WriteHistogram(text, Name, _buckets);
                else text.Append(Name).Append(Braced(series.Labels)).Append(' ').Append(Format(series.Value)).Append('\n');
            }
        }

        private static Kind KindOf(Instrument instrument) => instrument switch
        {
            Histogram<long> or Histogram<int> or Histogram<double> => Kind.Histogram,
            Counter<long> or Counter<int> or Counter<double> or UpDownCounter<long> or UpDownCounter<int> or UpDownCounter<double> => Kind.Sum,
            _ => Kind.Last, // observable instruments report their current value (cumulative for counters)
        };

        private static double[] BucketsOf(Instrument instrument) => instrument switch
        {
            Histogram<double> { Advice.HistogramBucketBoundaries: { } b } => [.. b],
            Histogram<long> { Advice.HistogramBucketBoundaries: { } b } => [.. b.Select(v => (double)v)],
            _ => DefaultBuckets,
        };

        private static string PrometheusName(Instrument instrument)
        {
            var name = new StringBuilder(instrument.Name.Length + 8);
            foreach (var c in instrument.Name) name.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_');
            if (instrument.Unit is "s") name.Append("_seconds");
            else if (instrument.Unit is "By") name.Append("_bytes");
            if (instrument is Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<double>)
                name.Append("_total");
            return name.ToString();
        }

        private static string Labels(KeyValuePair<string, object?>[] pairs)
        {
            if (pairs.Length == 0) return "";
            Array.Sort(pairs, (a, b) => string.CompareOrdinal(a.Key, b.Key));
            var text = new StringBuilder();
            foreach (var (key, value) in pairs)
            {
                if (text.Length > 0) text.Append(',');
                text.Append(key.Replace('.', '_')).Append("=\"");
                foreach (var c in Convert.ToString(value, CultureInfo.InvariantCulture) ?? "")
                {
                    if (c is '\\' or '"') text.Append('\\').Append(c);
                    else if (c == '\n') text.Append("\\n");
                    else text.Append(c);
                }
                text.Append('"');
            }
            return text.ToString();
        }
    }

    /// <summary>Up to three tag pairs compared by value; more tags than that share one series per key set.</summary>
    private readonly struct TagKey : IEquatable<TagKey>
    {
        private readonly int _count;
        private readonly KeyValuePair<string, object?> _a, _b, _c;

        public TagKey(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            _count = tags.Length;
            if (tags.Length > 0) _a = tags[0];
            if (tags.Length > 1) _b = tags[1];
            if (tags.Length > 2) _c = tags[2];
        }

        public bool Equals(TagKey other) =>
            _count == other._count && Same(_a, other._a) && Same(_b, other._b) && Same(_c, other._c);

        public override bool Equals(object? obj) => obj is TagKey other && Equals(other);

        public override int GetHashCode() => HashCode.Combine(_count, _a.Key, _a.Value, _b.Value, _c.Value);

        private static bool Same(KeyValuePair<string, object?> x, KeyValuePair<string, object?> y) =>
            string.Equals(x.Key, y.Key, StringComparison.Ordinal) && Equals(x.Value, y.Value);
    }

    private sealed class Series(int bucketCount, string labels)
    {
        public string Labels { get; } = labels;

        private readonly object _gate = new();
        private readonly long[] _bucketCounts = new long[bucketCount];
        private double _value;
        private long _count;

        public double Value
        {
            get { lock (_gate) return _value; }
        }

        public void Add(double value)
        {
            lock (_gate) _value += value;
        }

        public void Set(double value)
        {
            lock (_gate) _value = value;
        }

        public void Observe(double value, double[] buckets)
        {
            lock (_gate)
            {
                _value += value;
                _count++;
                var index = Array.BinarySearch(buckets, value);
                if (index < 0) index = ~index;
                if (index < _bucketCounts.Length) _bucketCounts[index]++;
            }
        }

        public void WriteHistogram(StringBuilder text, string name, double[] buckets)
        {
            var labels = Labels;
            lock (_gate)
            {
                long cumulative = 0;
                var prefix = labels.Length > 0 ? labels + "," : "";
                for (var i = 0; i < buckets.Length; i++)
                {
                    cumulative += _bucketCounts[i];
                    text.Append(name).Append("_bucket{").Append(prefix).Append("le=\"").Append(Format(buckets[i])).Append("\"} ").Append(cumulative).Append('\n');
                }
                text.Append(name).Append("_bucket{").Append(prefix).Append("le=\"+Inf\"} ").Append(_count).Append('\n');
                text.Append(name).Append("_sum").Append(Braced(labels)).Append(' ').Append(Format(_value)).Append('\n');
                text.Append(name).Append("_count").Append(Braced(labels)).Append(' ').Append(_count).Append('\n');
            }
        }
    }

    private enum Kind { Sum, Last, Histogram }

    private static string Braced(string labels) => labels.Length == 0 ? "" : "{" + labels + "}";

    private static string Format(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}
