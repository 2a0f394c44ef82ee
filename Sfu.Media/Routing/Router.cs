namespace Sfu.Media.Routing;

/// <summary>
/// The producers of one room by track id, so subscribers can find what to consume. Owns nothing: producers
/// belong to their publisher's <see cref="PublisherMedia"/>. Worker thread only.
/// </summary>
public sealed class Router
{
    private readonly Dictionary<string, Producer> _producers = new(StringComparer.Ordinal);

    public void Add(Producer producer) => _producers[producer.Id] = producer;

    public void Remove(Producer producer)
    {
        if (_producers.TryGetValue(producer.Id, out var current) && ReferenceEquals(current, producer)) _producers.Remove(producer.Id);
    }

    public Producer? Find(string trackId) => _producers.GetValueOrDefault(trackId);
}
