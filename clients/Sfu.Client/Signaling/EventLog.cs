using System.Threading.Channels;

namespace Sfu.Client.Signaling;

/// <summary>
/// Events in arrival order: kept for tests to look back at, queued for the dispatch task, and watched by
/// waiters that want the first one matching a condition (whether it came before or after they asked).
/// </summary>
internal sealed class EventLog
{
    private readonly Lock _gate = new();
    private readonly List<SignalingEvent> _all = [];
    private readonly List<(Func<SignalingEvent, bool> Match, TaskCompletionSource<SignalingEvent> Completion)> _waiters = [];
    private readonly Channel<SignalingEvent> _dispatch = Channel.CreateUnbounded<SignalingEvent>(new UnboundedChannelOptions { SingleReader = true });

    public void Add(SignalingEvent e)
    {
        List<TaskCompletionSource<SignalingEvent>>? satisfied = null;
        lock (_gate)
        {
            _all.Add(e);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(e))
                {
                    (satisfied ??= []).Add(_waiters[i].Completion);
                    _waiters.RemoveAt(i);
                }
            }
        }

        _dispatch.Writer.TryWrite(e);
        satisfied?.ForEach(c => c.TrySetResult(e));
    }

    public IReadOnlyList<SignalingEvent> Snapshot()
    {
        lock (_gate)
        {
            return [.. _all];
        }
    }

    public async Task<SignalingEvent> WaitAsync(Func<SignalingEvent, bool> match, TimeSpan timeout)
    {
        var completion = new TaskCompletionSource<SignalingEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var earlier = _all.Find(e => match(e));
            if (earlier is not null)
            {
                return earlier;
            }

            _waiters.Add((match, completion));
        }

        try
        {
            return await completion.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            lock (_gate)
            {
                _waiters.RemoveAll(w => w.Completion == completion);
            }

            throw;
        }
    }

    public IAsyncEnumerable<SignalingEvent> ReadAllAsync() => _dispatch.Reader.ReadAllAsync();

    public void Complete() => _dispatch.Writer.TryComplete();
}
