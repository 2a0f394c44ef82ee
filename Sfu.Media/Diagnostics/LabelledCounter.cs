using System.Collections.Frozen;
using Prometheus;

namespace Sfu.Media.Diagnostics;

/// <summary>
/// A Prometheus counter with one label whose values are known in advance. Every series exists from start-up (at 0),
/// so dashboards and alerts see 0 rather than no data, and counting a known value is a lookup and an add, with no
/// allocation. A value outside the list still counts, in a series of its own.
/// </summary>
public sealed class LabelledCounter
{
    private readonly Counter _counter;
    private readonly FrozenDictionary<string, Counter.Child> _children;

    public LabelledCounter(IMetricFactory factory, string name, string help, string label, IEnumerable<string> values)
    {
        _counter = factory.CreateCounter(name, help, [label]);
        _children = values.Distinct(StringComparer.Ordinal).ToFrozenDictionary(v => v, v => _counter.WithLabels(v), StringComparer.Ordinal);
    }

    public void Inc(string value) => (_children.TryGetValue(value, out var child) ? child : _counter.WithLabels(value)).Inc();
}
