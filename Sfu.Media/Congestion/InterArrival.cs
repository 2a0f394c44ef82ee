namespace Sfu.Media.Congestion;

/// <summary>How a group of packets moved relative to the group before it: the raw input of delay-based estimation.</summary>
/// <param name="SendDeltaMs">Send time of this group's last packet minus the previous group's.</param>
/// <param name="ArrivalDeltaMs">Arrival time of this group's last packet minus the previous group's.</param>
/// <param name="ArrivalTimeUs">When this group's last packet arrived (receiver's clock).</param>
public readonly record struct GroupDelta(double SendDeltaMs, double ArrivalDeltaMs, long ArrivalTimeUs);

/// <summary>
/// Groups acknowledged packets into send bursts (everything sent within 5 ms of a group's first packet, as a
/// video frame's packets are) and yields the send and arrival deltas between consecutive complete groups.
/// Per-packet deltas would mostly measure the sender's own burstiness; per-group deltas measure the queue.
/// Packets that arrive in a burst behind a group (their arrival delta shorter than their send delta, within
/// 5 ms) are folded into it: a queue draining at once says nothing new about the bottleneck.
/// </summary>
public sealed class InterArrival
{
    private const long GroupLengthUs = 5_000;
    private const long BurstArrivalUs = 5_000;
    private const long MaxBurstDurationUs = 100_000;
    // An arrival-clock jump this large means the receiver's clock or the path changed, not a queue.
    private const long ClockJumpUs = 3_000_000;

    private Group _current;
    private Group _previous;

    /// <summary>Feeds one acknowledged packet; true when it closed a group and <paramref name="delta"/> is set.</summary>
    public bool TryAdd(long sendTimeUs, long arrivalTimeUs, out GroupDelta delta)
    {
        delta = default;
        if (!_current.IsStarted)
        {
            _current = Group.Start(sendTimeUs, arrivalTimeUs);
            return false;
        }
        if (sendTimeUs < _current.FirstSendUs) return false; // reordered behind a newer group: no information

        if (sendTimeUs - _current.FirstSendUs <= GroupLengthUs || BelongsToBurst(sendTimeUs, arrivalTimeUs))
        {
            _current.Add(sendTimeUs, arrivalTimeUs);
            return false;
        }

        var produced = false;
        if (_previous.IsStarted)
        {
            var sendDelta = _current.LastSendUs - _previous.LastSendUs;
            var arrivalDelta = _current.LastArrivalUs - _previous.LastArrivalUs;
            if (arrivalDelta < 0 || arrivalDelta - sendDelta > ClockJumpUs)
            {
                Reset();
                _current = Group.Start(sendTimeUs, arrivalTimeUs);
                return false;
            }
            delta = new GroupDelta(sendDelta / 1000.0, arrivalDelta / 1000.0, _current.LastArrivalUs);
            produced = true;
        }
        _previous = _current;
        _current = Group.Start(sendTimeUs, arrivalTimeUs);
        return produced;
    }

    /// <summary>Forgets every group: the next packets start afresh (a new network path).</summary>
    public void Reset()
    {
        _current = default;
        _previous = default;
    }

    private bool BelongsToBurst(long sendTimeUs, long arrivalTimeUs)
    {
        var arrivalDelta = arrivalTimeUs - _current.LastArrivalUs;
        var sendDelta = sendTimeUs - _current.LastSendUs;
        if (sendDelta == 0) return true;
        return arrivalDelta - sendDelta < 0 && arrivalDelta <= BurstArrivalUs && arrivalTimeUs - _current.FirstArrivalUs < MaxBurstDurationUs;
    }

    private struct Group
    {
        public bool IsStarted;
        public long FirstSendUs;
        public long LastSendUs;
        public long FirstArrivalUs;
        public long LastArrivalUs;

        public static Group Start(long sendTimeUs, long arrivalTimeUs) =>
            new() { IsStarted = true, FirstSendUs = sendTimeUs, LastSendUs = sendTimeUs, FirstArrivalUs = arrivalTimeUs, LastArrivalUs = arrivalTimeUs };

        public void Add(long sendTimeUs, long arrivalTimeUs)
        {
            LastSendUs = Math.Max(LastSendUs, sendTimeUs);
            LastArrivalUs = Math.Max(LastArrivalUs, arrivalTimeUs);
        }
    }
}
